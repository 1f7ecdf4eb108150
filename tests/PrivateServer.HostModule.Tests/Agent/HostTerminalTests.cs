using System.IO.Pipelines;
using System.Text;
using PrivateServer.HostModule.Agent;

namespace PrivateServer.HostModule.Tests.Agent;

public sealed class HostTerminalTests
{
    [Theory]
    [InlineData("y", true)]
    [InlineData("YES", true)]
    [InlineData(" j ", true)]
    [InlineData("Ja", true)]
    [InlineData("n", false)]
    [InlineData("", false)]
    [InlineData("yes please", false)]
    public async Task AskAsync_AcceptsOnlyYesInEnglishOrGerman(string line, bool expected)
    {
        var (terminal, input, _) = Create();
        var running = terminal.RunAsync(CancellationToken.None);

        var answer = terminal.AskAsync("Allow?", TimeSpan.FromSeconds(10), CancellationToken.None);
        await input.WriteLineAsync(line);

        (await answer).Should().Be(expected);
        input.Complete();
        await running;
    }

    [Fact]
    public async Task AskAsync_WhenInputHasEnded_RefusesAtOnce()
    {
        var (terminal, input, output) = Create();
        input.Complete();
        await terminal.RunAsync(CancellationToken.None);

        var answer = await terminal.AskAsync("Allow?", TimeSpan.FromSeconds(10), CancellationToken.None);

        answer.Should().BeFalse();
        output.ToString().Should().Contain("No input to answer from: refused.");
    }

    [Fact]
    public async Task AskAsync_WhenNobodyAnswersInTime_Refuses()
    {
        var (terminal, _, output) = Create();
        _ = terminal.RunAsync(CancellationToken.None);

        var answer = await terminal.AskAsync("Allow?", TimeSpan.FromMilliseconds(200), CancellationToken.None);

        answer.Should().BeFalse();
        output.ToString().Should().Contain("No answer in time: refused.");
    }

    [Fact]
    public async Task RunAsync_WhenStopIsTypedWithoutAQuestion_CallsTheEmergencyStop()
    {
        var stops = 0;
        var (terminal, input, _) = Create(() => stops++);
        var running = terminal.RunAsync(CancellationToken.None);

        await input.WriteLineAsync("hello");
        await input.WriteLineAsync(" STOP ");
        input.Complete();
        await running;

        stops.Should().Be(1);
    }

    private static (HostTerminal Terminal, LineInput Input, StringWriter Output) Create(Action? onStop = null)
    {
        var pipe = new Pipe();
        var output = new StringWriter();
        var terminal = new HostTerminal(new StreamReader(pipe.Reader.AsStream()), output, onStop ?? (() => { }));
        return (terminal, new LineInput(pipe.Writer), output);
    }

    private sealed class LineInput(PipeWriter writer)
    {
        public async Task WriteLineAsync(string line)
        {
            await writer.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"));
            await writer.FlushAsync();
        }

        public void Complete() => writer.Complete();
    }
}
