using System.CommandLine;

namespace PrivateServer.HostModule.Tests;

public sealed class ProgramTests
{
    [Fact]
    public void Version_WhenAsked_PrintsTheProductVersion()
    {
        using var output = new StringWriter();

        var exit = Program.BuildCommand(TextReader.Null, TextWriter.Null, TextWriter.Null).Parse("--version").Invoke(new InvocationConfiguration { Output = output });

        exit.Should().Be(0);
        output.ToString().Trim().Should().MatchRegex(@"^\d+\.\d+\.\d+");
    }

    [Fact]
    public void Help_WhenAsked_NamesTheProgram()
    {
        using var output = new StringWriter();

        var exit = Program.BuildCommand(TextReader.Null, TextWriter.Null, TextWriter.Null).Parse("--help").Invoke(new InvocationConfiguration { Output = output });

        exit.Should().Be(0);
        output.ToString().Should().Contain("privateserver-host");
    }

    [Fact]
    public void Invoke_WhenVerbIsUnknown_Fails()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = Program.BuildCommand(TextReader.Null, TextWriter.Null, TextWriter.Null).Parse("frobnicate").Invoke(new InvocationConfiguration { Output = output, Error = error });

        exit.Should().NotBe(0);
        error.ToString().Should().Contain("frobnicate");
    }
}
