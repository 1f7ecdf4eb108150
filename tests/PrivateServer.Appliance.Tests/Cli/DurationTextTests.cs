using PrivateServer.Appliance.Cli;

namespace PrivateServer.Appliance.Tests.Cli;

public sealed class DurationTextTests
{
    [Theory]
    [InlineData("90s", 90)]
    [InlineData("30m", 1800)]
    [InlineData("24h", 86400)]
    [InlineData("7D", 604800)]
    public void TryParse_ReadsANumberWithAUnit(string text, int seconds)
    {
        DurationText.TryParse(text, out var duration).Should().BeTrue();
        duration.Should().Be(TimeSpan.FromSeconds(seconds));
    }

    [Theory]
    [InlineData("")]
    [InlineData("24")]
    [InlineData("h")]
    [InlineData("-1h")]
    [InlineData("0h")]
    [InlineData("1w")]
    [InlineData("1.5h")]
    public void TryParse_RefusesAnythingElse(string text)
    {
        DurationText.TryParse(text, out _).Should().BeFalse();
    }
}
