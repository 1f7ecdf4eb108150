using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Mail;

namespace PrivateServer.Server.Web.SignIn;

/// <summary>A browser between the password and the second factor: whose password was right, which password it was, and where to go after.</summary>
public sealed record PendingSignIn(string Name, string Credential, string? ReturnUrl);

/// <summary>
/// The state of a sign-in that still needs its second factor, kept in the browser in an encrypted, time-limited cookie
/// (Data Protection, 10 minutes, Secure, HttpOnly, SameSite=Strict): no server-side state, and nothing in it signs
/// anyone in. A new authenticator's secret travels between the set-up page and its confirmation the same way, in a
/// protected form field bound to the user's name.
/// </summary>
public sealed class PendingSignIns(IDataProtectionProvider protection)
{
    // Not __Host-: the cookie is scoped to /login, where the second step lives.
    public const string CookieName = "__Secure-ps-signin";

    /// <summary>How long the second step may take (setting up an app included).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private const char Separator = '\n';

    private readonly ITimeLimitedDataProtector _cookies = protection.CreateProtector("PrivateServer.Web.PendingSignIn").ToTimeLimitedDataProtector();
    private readonly ITimeLimitedDataProtector _secrets = protection.CreateProtector("PrivateServer.Web.TotpSecret").ToTimeLimitedDataProtector();

    public void Start(HttpContext context, User user, string? returnUrl)
    {
        ArgumentNullException.ThrowIfNull(context);
        var value = _cookies.Protect(string.Join(Separator, user.Name, LoginService.Credential(user), returnUrl ?? string.Empty), Lifetime);
        context.Response.Cookies.Append(CookieName, value, Options(context));
    }

    /// <summary>The pending sign-in of this browser, or null when there is none (or it expired or was tampered with).</summary>
    public PendingSignIn? Read(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Request.Cookies.TryGetValue(CookieName, out var value) || string.IsNullOrEmpty(value))
        {
            return null;
        }

        try
        {
            var parts = _cookies.Unprotect(value).Split(Separator, 3);
            return parts.Length == 3 ? new PendingSignIn(parts[0], parts[1], parts[2].Length == 0 ? null : parts[2]) : null;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    public static void End(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Cookies.Delete(CookieName, Options(context));
    }

    /// <summary>Signs the browser in (the console's cookie) and ends its pending sign-in; returns where to go next (a local address).</summary>
    public static async Task<string> FinishAsync(HttpContext context, User user, string? returnUrl, IUrlHelper url)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(url);
        End(context);
        await context.SignInAsync(
            CookieAuthenticationDefaults.AuthenticationScheme, WebUsers.Principal(user, CookieAuthenticationDefaults.AuthenticationScheme));
        return url.IsLocalUrl(returnUrl) ? returnUrl! : "/";
    }

    /// <summary>The name authenticator apps show above the code: the appliance and its host name.</summary>
    public static string Issuer(PublicAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return $"PrivateServer ({address.Host})";
    }

    /// <summary>
    /// A new authenticator's secret for the confirmation form, readable only by this appliance, only for
    /// <paramref name="user"/> and only while the user's second factor is still what it was (<see cref="FactorState"/>):
    /// a form taken before someone set one up cannot replace it later.
    /// </summary>
    public string ProtectSecret(User user, string secret)
    {
        ArgumentNullException.ThrowIfNull(user);
        return _secrets.Protect(string.Join(Separator, user.Name, FactorState(user), secret), Lifetime);
    }

    /// <summary>The secret of <see cref="ProtectSecret"/>, or null when the field is not one for this user as they are now (or expired).</summary>
    public string? UnprotectSecret(User user, string? token)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        try
        {
            var parts = _secrets.Unprotect(token).Split(Separator, 3);
            return parts.Length == 3 && AccountName.Normalize(parts[0]) == AccountName.Normalize(user.Name)
                && parts[1] == FactorState(user) && TwoFactor.IsSecret(parts[2]) ? parts[2] : null;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>"none", or a fingerprint of the current authenticator's secret.</summary>
    private static string FactorState(User user) => user.TwoFactor is null ? "none" : SecretToken.Hash("factor:" + user.TwoFactor.Secret)[..16];

    private static CookieOptions Options(HttpContext context) => new()
    {
        HttpOnly = true,
        Secure = true,
        SameSite = SameSiteMode.Strict,
        Path = "/login",
        MaxAge = Lifetime,
        IsEssential = true,
    };
}
