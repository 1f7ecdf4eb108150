using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using PrivateServer.Protocol.Control;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.AdHoc;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Broker;
using PrivateServer.Server.Hosts;

namespace PrivateServer.Server.Api;

/// <summary>
/// Who is calling the module API: an enrolled host (client certificate), a supporter (bearer token),
/// or an ad-hoc customer's relay half (the relay key it was given for its one session).
/// </summary>
public sealed class ModuleIdentity(
    IHostStore hosts, IApiTokenStore tokens, IUserStore users, AdHocDesk desk, IOptions<BrokerOptions> options, TimeProvider time, NetworkRules? networks = null)
{
    private const string Scheme = "Bearer ";

    /// <summary>The prefix of the relay keys of ad-hoc customers (<see cref="AdHocWelcome"/>).</summary>
    public const string AdHocKeyPrefix = "ah.";

    /// <summary>The connected ad-hoc customer whose relay key this request presents; null otherwise.</summary>
    public AdHocCustomer? AuthenticateAdHocHost(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var bearer = Bearer(context);
        return bearer is not null && bearer.StartsWith(AdHocKeyPrefix, StringComparison.Ordinal) ? desk.FindByRelayKey(SecretToken.Hash(bearer)) : null;
    }

    /// <summary>The enrolled, unrevoked host whose current certificate this connection presented; null otherwise.</summary>
    public Task<HostRecord?> AuthenticateHostAsync(HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return AuthenticateHostAsync(context.Connection.ClientCertificate, cancellationToken);
    }

    /// <summary>The enrolled, unrevoked host to whom <paramref name="certificate"/> (a connection's client certificate) was issued; null otherwise.</summary>
    public async Task<HostRecord?> AuthenticateHostAsync(X509Certificate2? certificate, CancellationToken cancellationToken)
    {
        // The handshake checked chain, usage and revocation list; here the certificate must be
        // exactly the one issued to an enrolled, unrevoked host (also covers resumed TLS sessions).
        if (certificate is null)
        {
            return null;
        }

        var hostId = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        var host = string.IsNullOrEmpty(hostId) ? null : await hosts.FindAsync(hostId, cancellationToken);
        var thumbprint = certificate.GetCertHashString(HashAlgorithmName.SHA256);
        return host is { Revoked: false } && string.Equals(host.CertificateThumbprint, thumbprint, StringComparison.OrdinalIgnoreCase) ? host : null;
    }

    /// <summary>The signed-in supporter (or admin) behind the bearer token; null when missing, unknown, expired, disabled or from a network the user may not sign in from.</summary>
    public async Task<User?> AuthenticateSupporterAsync(HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var bearer = Bearer(context);
        if (bearer is null || bearer.StartsWith(AdHocKeyPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        var token = await tokens.FindAsync(SecretToken.Hash(bearer), cancellationToken);
        if (token is null || token.ExpiresAt <= time.GetUtcNow())
        {
            return null;
        }

        var user = await users.FindAsync(token.User, cancellationToken);
        if (user is not { Disabled: false, Role: Role.Supporter or Role.Admin })
        {
            return null;
        }

        // A token carried to a network its user may not sign in from is worth nothing there.
        if (networks is not null && await networks.SignInRefusalAsync(user, context.Connection.RemoteIpAddress, cancellationToken) is { } refusal)
        {
            networks.LogRefused("a supporter-module token of " + user.Name, refusal);
            return null;
        }

        return user;
    }

    private static string? Bearer(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) && header.Length <= 200 ? header[Scheme.Length..].Trim() : null;
    }

    /// <summary>Issues a bearer token for a user whose password was checked.</summary>
    public async Task<(string Token, DateTimeOffset ExpiresAt)> IssueTokenAsync(User user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var now = time.GetUtcNow();
        await tokens.RemoveExpiredAsync(now, cancellationToken);
        var token = SecretToken.New();
        var expires = now.AddSeconds(options.Value.SupporterTokenSeconds);
        await tokens.AddAsync(new ApiToken(SecretToken.Hash(token), user.Name, now, expires), cancellationToken);
        return (token, expires);
    }
}
