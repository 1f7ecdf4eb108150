namespace PrivateServer.HostModule.Tests.Cli;

public sealed class JoinVerbTests
{
    private const string Pin = "--ca-fingerprint=0000000000000000000000000000000000000000000000000000000000000000";

    [Theory]
    [InlineData("join --server https://rs.example.internal " + Pin, "give either --code (from your supporter) or --request \"Name: problem\"")]
    [InlineData("join --server https://rs.example.internal --code 12345678 --request help " + Pin, "give either --code (from your supporter) or --request \"Name: problem\"")]
    [InlineData("join --server https://rs.example.internal --code 1234 " + Pin, "--code: a session code has 8 digits")]
    [InlineData("join --server https://rs.example.internal --code 12345678 --group support " + Pin, "--group goes with --request, not with --code")]
    public async Task Join_WithContradictoryArguments_FailsWithOneLineBeforeConnecting(string arguments, string expected)
    {
        using var error = new StringWriter();

        var exit = await Program.BuildCommand(TextReader.Null, TextWriter.Null, error).Parse(arguments).InvokeAsync();

        exit.Should().Be(1);
        error.ToString().Should().Be($"privateserver-host: {expected}\n");
    }
}
