using PrivateServer.Server.Auth;

namespace PrivateServer.Server.Web.SignIn;

/// <summary>What the set-up form shows (<c>_TotpSetup</c>): the new authenticator, its protected secret for the post, and the page handler it posts to.</summary>
public sealed record TotpSetupForm(TotpSetup Setup, string Token, string? Handler)
{
    /// <summary>The secret in groups of four, as people type it into an app.</summary>
    public static string Grouped(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return string.Join(' ', secret.Chunk(4).Select(chunk => new string(chunk)));
    }
}
