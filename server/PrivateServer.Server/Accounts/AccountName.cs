using System.Text.RegularExpressions;

namespace PrivateServer.Server.Accounts;

/// <summary>User and group names: 1–64 characters of letters, digits and . _ @ -, compared case-insensitively.</summary>
public static partial class AccountName
{
    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    /// <summary>The key a name is stored and compared under.</summary>
    public static string Normalize(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.ToUpperInvariant();
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
