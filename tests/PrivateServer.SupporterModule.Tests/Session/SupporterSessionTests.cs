using PrivateServer.SupporterModule.Session;

namespace PrivateServer.SupporterModule.Tests.Session;

public sealed class SupporterSessionTests
{
    private static readonly string[] View = ["view"];

    [Theory]
    [InlineData("01234567", null, "01234567", null)]
    [InlineData("0123 4567", null, "01234567", null)]
    [InlineData("rq-AbC_12-x", null, null, "rq-AbC_12-x")]
    [InlineData("pc-buchhaltung", "pc-buchhaltung", null, null)]
    [InlineData("h-0123456789abcdef", "h-0123456789abcdef", null, null)]
    [InlineData("1234567", "1234567", null, null)]
    public void Request_NamesACodeARequestOrAHost(string target, string? host, string? code, string? request)
    {
        var connect = SupporterSession.Request(target, View);

        (connect.Host, connect.Code, connect.Request).Should().Be((host, code, request));
        connect.Permissions.Should().Equal(View);
    }

    [Theory]
    [InlineData("se-AbCdEfGhIj_lMnOp-rSt", "se-AbCdEfGhIj_lMnOp-rSt", null)]
    [InlineData("se-short", null, "se-short")]
    [InlineData("se-AbCdEfGhIjKlMnOpQrStU", null, "se-AbCdEfGhIjKlMnOpQrStU")]
    public void Request_NamesARunningSessionOnlyByItsExactIdForm(string target, string? session, string? host)
    {
        var connect = SupporterSession.Request(target, ["chat"]);

        (connect.Session, connect.Host).Should().Be((session, host));
    }
}
