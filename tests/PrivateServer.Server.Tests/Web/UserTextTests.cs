using PrivateServer.Server.Web;

namespace PrivateServer.Server.Tests.Web;

public sealed class UserTextTests
{
    [Fact]
    public void Render_AnAddress_LinksToTheWarningPageNeverToTheOtherOrigin()
    {
        var html = Html("See https://example.com/terms?a=1&b=2. Thanks");

        html.Should().Be(
            "See <a class=\"external\" rel=\"noopener noreferrer nofollow\" href=\"/leave?to=https%3A%2F%2Fexample.com%2Fterms%3Fa%3D1%26b%3D2\">"
            + "https://example.com/terms?a=1&amp;b=2</a>. Thanks");
    }

    [Fact]
    public void Render_MarkupAndScriptAddresses_AreEncodedAndNotLinked()
    {
        var html = Html("<b>bold</b> javascript:alert(1) \"quoted\"\nnext line");

        html.Should().Be("&lt;b&gt;bold&lt;/b&gt; javascript:alert(1) &quot;quoted&quot;\nnext line");
    }

    [Fact]
    public void Render_AnAddressInParentheses_LeavesTheParenthesisOutside()
    {
        var html = Html("(http://intranet.example/a)");

        html.Should().StartWith("(<a ").And.EndWith(">http://intranet.example/a</a>)");
    }

    private static string Html(string text)
    {
        using var writer = new StringWriter();
        UserText.Render(text).WriteTo(writer, System.Text.Encodings.Web.HtmlEncoder.Default);
        return writer.ToString();
    }
}
