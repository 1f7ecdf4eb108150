using System.Text;
using System.Text.Encodings.Web;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Html;

namespace PrivateServer.Server.Web;

/// <summary>
/// Text people typed (support terms, notes) as HTML: encoded, with every http(s) address turned into
/// a link to <c>/leave?to=…</c> — the warning page — never straight to the other origin.
/// Line breaks are kept by the stylesheet (<c>white-space: pre-wrap</c>), not by markup.
/// </summary>
public static partial class UserText
{
    private const string TrailingPunctuation = ".,;:!?)]}'\"";

    public static IHtmlContent Render(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return HtmlString.Empty;
        }

        var html = new StringBuilder(text.Length + 64);
        var at = 0;
        foreach (Match match in Address().Matches(text))
        {
            var address = match.Value.TrimEnd(TrailingPunctuation.ToCharArray());
            AppendText(html, text[at..match.Index]);
            html.Append("<a class=\"external\" rel=\"noopener noreferrer nofollow\" href=\"/leave?to=")
                .Append(Uri.EscapeDataString(address))
                .Append("\">")
                .Append(HtmlEncoder.Default.Encode(address))
                .Append("</a>");
            at = match.Index + address.Length;
        }

        AppendText(html, text[at..]);
        return new HtmlString(html.ToString());
    }

    /// <summary>Encoded text with its line breaks as they are (the encoder would write them as character references).</summary>
    private static void AppendText(StringBuilder html, string text)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            html.Append(i > 0 ? "\n" : string.Empty).Append(HtmlEncoder.Default.Encode(lines[i]));
        }
    }

    [GeneratedRegex(@"\bhttps?://[^\s<>""]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Address();
}
