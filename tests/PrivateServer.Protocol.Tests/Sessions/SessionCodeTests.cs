using PrivateServer.Protocol.Sessions;

namespace PrivateServer.Protocol.Tests.Sessions;

public sealed class SessionCodeTests
{
    [Theory]
    [InlineData("01234567", "01234567")]
    [InlineData("0123 4567", "01234567")]
    [InlineData(" 0123-4567 ", "01234567")]
    [InlineData("00000000", "00000000")]
    public void TryParse_WithEightDigits_KeepsEveryDigitIncludingLeadingZeros(string text, string expected)
    {
        var parsed = SessionCode.TryParse(text, out var code);

        parsed.Should().BeTrue();
        code.Should().Be(expected);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("1234567")]
    [InlineData("123456789")]
    [InlineData("1234a567")]
    [InlineData("١٢٣٤٥٦٧٨")]
    [InlineData("1234567\n8")]
    [InlineData("1 2 3 4 5 6 7 8 9 0 1 2")]
    public void TryParse_WithAnythingElse_Refuses(string? text)
    {
        SessionCode.TryParse(text, out var code).Should().BeFalse();
        code.Should().BeEmpty();
    }

    [Fact]
    public void Format_SplitsTheCodeForPeople()
    {
        SessionCode.Format("01234567").Should().Be("0123 4567");
    }
}
