using System.Security.Claims;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Admin;

namespace PrivateServer.Server.Web;

/// <summary>
/// The authorisation policies of the web console and the user behind a browser's cookie, read
/// fresh from the store: a disabled user or a changed role ends the cookie at its next request.
/// </summary>
public sealed class WebUsers(IUserStore users)
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
            [new Claim(ClaimTypes.Name, user.Name), new Claim(ClaimTypes.Role, AccountAdministration.RoleName(user.Role))],
            authenticationType));
    }

    /// <summary>The enabled user the principal names, when its role is still the one it signed in with; null otherwise.</summary>
    public async Task<User?> CurrentAsync(ClaimsPrincipal principal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        var name = principal.FindFirstValue(ClaimTypes.Name);
        var role = principal.FindFirstValue(ClaimTypes.Role);
        if (name is null || role is null)
        {
            return null;
        }

        var user = await users.FindAsync(name, cancellationToken);
        return user is { Disabled: false } && AccountAdministration.RoleName(user.Role) == role ? user : null;
    }
}
