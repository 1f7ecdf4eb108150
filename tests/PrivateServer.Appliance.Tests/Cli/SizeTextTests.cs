using PrivateServer.Appliance.Cli;

namespace PrivateServer.Appliance.Tests.Cli;

public sealed class SizeTextTests
{
    [Theory]
    [InlineData("1048576", 1048576L)]
    [InlineData("500M", 500L << 20)]
    [InlineData("2G", 2L << 30)]
    [InlineData("2GiB", 2L << 30)]
    [InlineData("2gb", 2L << 30)]
    [InlineData("64k", 64L << 10)]
    [InlineData("1T", 1L << 40)]
    public void TryParse_ReadsBytesAndBinaryUnits(string text, long expected)
    {
        SizeText.TryParse(text, out var bytes).Should().BeTrue();
        bytes.Should().Be(expected);
    }

    [Theory]
    [InlineData("")]
    [InlineData("M")]
    [InlineData("-5M")]
    [InlineData("1.5G")]
    [InlineData("0")]
    [InlineData("5X")]
    [InlineData("99999999999999999999")]
    [InlineData("9000000000T")]
    public void TryParse_RefusesWhatIsNoSize(string text)
    {
        SizeText.TryParse(text, out _).Should().BeFalse();
    }
}
