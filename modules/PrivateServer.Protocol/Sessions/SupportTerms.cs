using System.Security.Cryptography;
using System.Text;

namespace PrivateServer.Protocol.Sessions;

/// <summary>The support terms an ad-hoc customer accepts, in one language (two-letter code: "de", "en").</summary>
public sealed record SupportTerms(string Language, string Text)
{
    /// <summary>SHA-256 of the text as UTF-8, lower-case hex: what the consent records.</summary>
    public static string Sha256(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text ?? string.Empty)));

    /// <summary>The terms in <paramref name="language"/>, else English, else the first; null when there are none.</summary>
    public static SupportTerms? Choose(IReadOnlyList<SupportTerms>? terms, string language)
    {
        if (terms is null || terms.Count == 0)
        {
            return null;
        }

        return terms.FirstOrDefault(t => string.Equals(t.Language, language, StringComparison.OrdinalIgnoreCase))
            ?? terms.FirstOrDefault(t => string.Equals(t.Language, "en", StringComparison.OrdinalIgnoreCase))
            ?? terms[0];
    }
}
