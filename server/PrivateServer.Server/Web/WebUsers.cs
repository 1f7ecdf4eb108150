using PrivateServer.Server.Auth;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Admin;

namespace PrivateServer.Server.Web;

/// <summary>
/// The authorisation policies of the web console and the user behind a browser's cookie, read
/// fresh from the store: a disabled user or a changed role ends the cookie at its next request.
/// </summary>
public sealed class WebUsers(IUserStore users, IGroupStore? groups = null, NetworkRules? networks = null, TwoFactor? twoFactor = null)
{
    /// <summary>Supporters (and admins) open sessions, create codes, take customers.</summary>
    public const string SupporterPolicy = "supporter";

    /// <summary>Admins manage users, groups, hosts, tokens and settings.</summary>
    public const string AdminPolicy = "admin";

    /// <summary>Auditors (and admins) read the session protocols; they open nothing.</summary>
    public const string AuditorPolicy = "auditor";

    public static ClaimsPrincipal Principal(User user, string authenticationType)
    {
        ArgumentNullException.ThrowIfNull(user);
        return new ClaimsPrincipal(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.Name, user.Name),
                new Claim(ClaimTypes.Role, AccountAdministration.RoleName(user.Role)),
                new Claim(CredentialClaim, CredentialOf(user)),
                new Claim(SecondFactorClaim, user.TwoFactor is null ? "no" : "yes"),
            ],
            authenticationType));
    }

    /// <summary>The claim that ties a cookie to the password it was signed in with: a new password ends every other cookie.</summary>
    public const string CredentialClaim = "ps:credential";

    /// <summary>Whether the cookie was signed in with a second factor: one without it ends once a second factor is required of its user.</summary>
    public const string SecondFactorClaim = "ps:second-factor";

    /// <summary>A fingerprint of the user's password hash (never the hash itself): changes with every new password.</summary>
    public static string CredentialOf(User user) => LoginService.Credential(user);

    /// <summary>
    /// Checks the principal of a request once (the cookie handler calls this on every request) and
    /// keeps the user for the rest of the request: the enabled user it names, when its role is
    /// still the one it signed in with and the request comes from a network it may sign in from; null otherwise.
    /// </summary>
    public async Task<User?> ValidateAsync(HttpContext context, ClaimsPrincipal principal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(principal);
        var name = principal.FindFirstValue(ClaimTypes.Name);
        var role = principal.FindFirstValue(ClaimTypes.Role);
        var user = name is null || role is null ? null : await users.FindAsync(name, cancellationToken);
        user = user is { Disabled: false } && AccountAdministration.RoleName(user.Role) == role
            && string.Equals(principal.FindFirstValue(CredentialClaim), CredentialOf(user), StringComparison.Ordinal) ? user : null;
        if (user is not null && groups is not null && twoFactor is not null && networks is not null)
        {
            // Every request passes here: the user's groups are read once for both checks.
            var memberOf = await groups.GroupsOfAsync(user, cancellationToken);

            // A cookie from before a second factor was required of its user ends: the next sign-in sets one up.
            if (principal.FindFirstValue(SecondFactorClaim) != "yes" && twoFactor.IsRequired(user, memberOf))
            {
                user = null;
            }

            // A cookie carried to a network its user may not sign in from is worth nothing there.
            else if (networks.SignInRefusal(user, context.Connection.RemoteIpAddress, memberOf) is { } refusal)
            {
                networks.LogRefused("a signed-in browser of " + user.Name, refusal);
                user = null;
            }
        }

        context.Items[typeof(WebUsers)] = user;
        return user;
    }

    /// <summary>The signed-in user of this request, as the cookie handler found it; null when nobody valid is signed in.</summary>
    public async Task<User?> CurrentAsync(HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items.TryGetValue(typeof(WebUsers), out var checkedUser))
        {
            return checkedUser as User;
        }

        return context.User.Identity?.IsAuthenticated == true ? await ValidateAsync(context, context.User, cancellationToken) : null;
    }
}
