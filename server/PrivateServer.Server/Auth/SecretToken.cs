using System.Security.Cryptography;
using System.Text;

namespace PrivateServer.Server.Auth;

/// <summary>Random secrets shown once (enrolment tokens, bearer tokens, stream tickets) and the hash kept of them.</summary>
public static class SecretToken
{
    /// <summary>256 random bits, base64url (43 characters).</summary>
    public static string New() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>SHA-256 of the token, lower-case hex: what the database keeps.</summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token ?? string.Empty)));
}
