using PrivateServer.HostModule.Agent;

namespace PrivateServer.HostModule.Tests.Agent;

public sealed class ServiceTargetTests
{
    [Theory]
    [InlineData("screen=127.0.0.1:5900", "screen", "127.0.0.1", 5900, true)]
    [InlineData("rdp=[::1]:3389", "rdp", "::1", 3389, false)]
    [InlineData("web_1=intranet.example.internal:8080", "web_1", "intranet.example.internal", 8080, false)]
    public void Parse_ReadsNameHostAndPort(string text, string name, string host, int port, bool screen)
    {
        var target = ServiceTarget.Parse(text);

        target.Should().Be(new ServiceTarget(name, host, port));
        target.IsScreen.Should().Be(screen);
    }

    [Theory]
    [InlineData("screen")]
    [InlineData("=127.0.0.1:5900")]
    [InlineData("Screen=127.0.0.1:5900")]
    [InlineData("screen=127.0.0.1")]
    [InlineData("screen=127.0.0.1:0")]
    [InlineData("screen=127.0.0.1:70000")]
    public void Parse_WhenMalformed_SaysWhatIsExpected(string text)
    {
        var parse = () => ServiceTarget.Parse(text);

        parse.Should().Throw<ArgumentException>().WithMessage($"--service '{text}'*");
    }

    [Fact]
    public void Backoff_GrowsExponentiallyWithJitterUpToAMinute()
    {
        var first = Enumerable.Range(0, 200).Select(_ => HostAgent.Backoff(0)).ToList();
        var fourth = Enumerable.Range(0, 200).Select(_ => HostAgent.Backoff(3)).ToList();
        var late = Enumerable.Range(0, 200).Select(_ => HostAgent.Backoff(40)).ToList();

        first.Should().OnlyContain(d => d >= TimeSpan.FromSeconds(0.5) && d <= TimeSpan.FromSeconds(1));
        fourth.Should().OnlyContain(d => d >= TimeSpan.FromSeconds(4) && d <= TimeSpan.FromSeconds(8));
        late.Should().OnlyContain(d => d >= TimeSpan.FromSeconds(30) && d <= TimeSpan.FromSeconds(60));
        first.Distinct().Count().Should().BeGreaterThan(100, "jitter spreads reconnecting hosts");
    }
}
