using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;

namespace PrivateServer.Server.Auth;

/// <summary>Password hashing (ASP.NET Core Identity's PasswordHasher, PBKDF2), policy and generation.</summary>
public sealed class PasswordService
{
    public const int MinimumLength = 12;

    private const string GeneratedAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    private const int GeneratedLength = 20;

    private static readonly Lazy<FrozenSet<string>> CommonPasswords = new(LoadCommonPasswords);

    private readonly PasswordHasher<string> _hasher = new();
    private readonly string _dummyHash;

    public PasswordService()
    {
        _dummyHash = _hasher.HashPassword(string.Empty, Generate());
    }

    /// <summary>A random password of 20 characters without look-alikes (about 116 bits).</summary>
    public static string Generate() => RandomNumberGenerator.GetString(GeneratedAlphabet, GeneratedLength);

    /// <summary>Why a chosen password is not acceptable, or null when it is.</summary>
    public static string? PolicyViolation(string password, string userName)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (password.Length < MinimumLength)
        {
            return $"a password needs at least {MinimumLength} characters";
        }

        if (string.Equals(password.Trim(), userName, StringComparison.OrdinalIgnoreCase))
        {
            return "a password must not be the user name";
        }

        if (IsCommon(password))
        {
            return "this password is one of the 10,000 most common ones; choose another";
        }

        return null;
    }

    /// <summary>Whether <paramref name="password"/> (ignoring case) is in the embedded list of the 10,000 most common passwords.</summary>
    public static bool IsCommon(string password) => CommonPasswords.Value.Contains(password.ToLowerInvariant());

    private static FrozenSet<string> LoadCommonPasswords()
    {
        using var stream = typeof(PasswordService).Assembly.GetManifestResourceStream("PrivateServer.Server.Auth.common-passwords.txt")
            ?? throw new InvalidOperationException("the list of common passwords is not embedded");
        using var reader = new StreamReader(stream);
        var passwords = new HashSet<string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && line[0] != '#')
            {
                passwords.Add(line.ToLowerInvariant());
            }
        }

        return passwords.ToFrozenSet(StringComparer.Ordinal);
    }

    public string Hash(string password) => _hasher.HashPassword(string.Empty, password);

    public PasswordCheck Verify(string hash, string password) =>
        _hasher.VerifyHashedPassword(string.Empty, hash, password) switch
        {
            PasswordVerificationResult.Success => PasswordCheck.Valid,
            PasswordVerificationResult.SuccessRehashNeeded => PasswordCheck.ValidRehashNeeded,
            _ => PasswordCheck.Invalid,
        };

    /// <summary>Spends the same time as a real check, so an unknown account is not told apart by timing.</summary>
    public void VerifyAgainstNothing(string password) => _ = _hasher.VerifyHashedPassword(string.Empty, _dummyHash, password);
}
