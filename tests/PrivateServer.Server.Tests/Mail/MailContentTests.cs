using PrivateServer.Server.Mail;

namespace PrivateServer.Server.Tests.Mail;

public sealed class MailContentTests
{
    [Theory]
    [InlineData("de", "de")]
    [InlineData("de-AT", "de")]
    [InlineData("en", "en")]
    [InlineData("fr", "en")]
    [InlineData(null, "en")]
    public void Language_IsGermanWhenAskedFor_ElseEnglish(string? asked, string used) =>
        MailContent.Start(asked, "TestSubject").Language.Should().Be(used);

    [Fact]
    public void Html_EscapesEverythingGiven_LinksOnlyWhereAsked_AndLoadsNothing()
    {
        var draft = MailContent.Start("en", "TestSubject")
            .Verbatim("<script>alert(1)</script> & <img src=\"https://tracker.example.org/p.gif\">")
            .Code("12345678")
            .Link("Footer", "https://support.example.internal/set-password?token=a&b")
            .To("test", "alice@example.internal", "https://support.example.internal/");

        draft.Html.Should().Contain("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img src=&quot;https://tracker.example.org/p.gif&quot;&gt;");
        draft.Html.Should().NotContain("<script").And.NotContain("<img");
        draft.Html.Should().Contain("<a href=\"https://support.example.internal/set-password?token=a&amp;b\">");
        draft.Html.Should().Contain("<code style=\"font-size:1.3em\">12345678</code>");
        draft.Text.Should().Contain("<script>alert(1)</script>", "the plain text part shows the text as it is")
            .And.Contain("    12345678\n")
            .And.Contain("https://support.example.internal/set-password?token=a&b")
            .And.EndWith("-- \nSent by PrivateServer, your company's remote support server: https://support.example.internal/\n");
        draft.Subject.Should().Be("PrivateServer: test mail");
    }
}
