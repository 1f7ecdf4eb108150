using PrivateServer.Protocol.Transport;

namespace PrivateServer.Protocol.Tests.Transport;

/// <summary>The modules' socket-completion switch: on by default on Linux, an admin's explicit value wins.</summary>
public sealed class SocketCompletionsTests : IDisposable
{
    private readonly string? _before = Environment.GetEnvironmentVariable(SocketCompletions.InlineVariable);

    [Fact]
    public void PreferInline_WithNothingSet_TurnsItOnForThisProcess()
    {
        Environment.SetEnvironmentVariable(SocketCompletions.InlineVariable, null);

        SocketCompletions.PreferInline();

        Environment.GetEnvironmentVariable(SocketCompletions.InlineVariable).Should().Be("1");
    }

    [Fact]
    public void PreferInline_WhenTheEnvironmentSaysZero_LeavesItOff()
    {
        Environment.SetEnvironmentVariable(SocketCompletions.InlineVariable, "0");

        SocketCompletions.PreferInline();

        Environment.GetEnvironmentVariable(SocketCompletions.InlineVariable).Should().Be("0");
    }

    public void Dispose() => Environment.SetEnvironmentVariable(SocketCompletions.InlineVariable, _before);
}
