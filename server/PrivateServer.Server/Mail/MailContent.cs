using System.Globalization;
using System.Net;
using System.Resources;
using System.Text;
using PrivateServer.Server.Mail.Resources;

namespace PrivateServer.Server.Mail;

/// <summary>
/// A mail's body built from the mail texts of one language, rendered twice: plain text, and simple HTML
/// (escaped, no images, no styles from elsewhere, no tracking). Links are absolute appliance links only.
/// </summary>
public sealed class MailContent
{
    private static readonly ResourceManager Texts = new(typeof(MailText));
    private readonly StringBuilder _text = new();
    private readonly StringBuilder _html = new();

    private MailContent(CultureInfo culture, string subject)
    {
        Culture = culture;
        Subject = subject;
        _html.Append("<!DOCTYPE html><html lang=\"").Append(culture.TwoLetterISOLanguageName).Append("\"><head><meta charset=\"utf-8\"><title>")
            .Append(WebUtility.HtmlEncode(subject)).Append("</title></head><body style=\"font-family:sans-serif;line-height:1.5\">");
    }

    public static IReadOnlyList<string> Languages { get; } = ["de", "en"];

    public CultureInfo Culture { get; }

    public string Language => Culture.TwoLetterISOLanguageName;

    public string Subject { get; }

    /// <summary>German when asked for (de, de-AT, ...), else English.</summary>
    public static CultureInfo CultureFor(string? language) =>
        language is not null && language.StartsWith("de", StringComparison.OrdinalIgnoreCase) ? CultureInfo.GetCultureInfo("de") : CultureInfo.GetCultureInfo("en");

    /// <summary>Starts a mail with the subject text <paramref name="subjectKey"/>.</summary>
    public static MailContent Start(string? language, string subjectKey, params object?[] arguments)
    {
        var culture = CultureFor(language);
        return new MailContent(culture, Format(culture, subjectKey, arguments));
    }

    /// <summary>The mail text <paramref name="key"/> in this mail's language.</summary>
    public string T(string key, params object?[] arguments) => Format(Culture, key, arguments);

    public MailContent Paragraph(string key, params object?[] arguments)
    {
        var text = T(key, arguments);
        _text.Append(text).Append("\n\n");
        _html.Append("<p>").Append(WebUtility.HtmlEncode(text).Replace("\n", "<br>", StringComparison.Ordinal)).Append("</p>");
        return this;
    }

    /// <summary>Text given by the admin or a user (terms, names): shown as it is, escaped.</summary>
    public MailContent Verbatim(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        _text.Append(text.Trim()).Append("\n\n");
        _html.Append("<p style=\"white-space:pre-wrap\">").Append(WebUtility.HtmlEncode(text.Trim())).Append("</p>");
        return this;
    }

    /// <summary>Something to copy or type, shown large (a session code, a command).</summary>
    public MailContent Code(string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        _text.Append("    ").Append(code).Append("\n\n");
        _html.Append("<p><code style=\"font-size:1.3em\">").Append(WebUtility.HtmlEncode(code)).Append("</code></p>");
        return this;
    }

    public MailContent Link(string labelKey, string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var label = T(labelKey);
        _text.Append(label).Append(":\n").Append(url).Append("\n\n");
        _html.Append("<p><a href=\"").Append(WebUtility.HtmlEncode(url)).Append("\">").Append(WebUtility.HtmlEncode(label)).Append("</a><br><small>")
            .Append(WebUtility.HtmlEncode(url)).Append("</small></p>");
        return this;
    }

    /// <summary>The finished draft for <paramref name="to"/>, with the common footer.</summary>
    public MailDraft To(string kind, string to, string applianceLink)
    {
        var footer = T("Footer", applianceLink);
        var text = _text.ToString() + "-- \n" + footer + "\n";
        var html = _html.ToString() + "<hr><p><small>" + WebUtility.HtmlEncode(footer) + "</small></p></body></html>";
        return new MailDraft(kind, to, Language, Subject, text, html);
    }

    private static string Format(CultureInfo culture, string key, object?[] arguments)
    {
        var format = Texts.GetString(key, culture) ?? throw new InvalidOperationException($"no mail text '{key}'");
        return arguments.Length == 0 ? format : string.Format(culture, format, arguments);
    }
}

/// <summary>A composed mail before it is queued (<see cref="MailDraft.Key"/> is set for mail that must go out once only, see <see cref="OutboxMail.Key"/>).</summary>
public sealed record MailDraft(string Kind, string To, string Language, string Subject, string Text, string Html, string? Key = null);
