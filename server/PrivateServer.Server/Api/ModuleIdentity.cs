using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Broker;
using PrivateServer.Server.Hosts;

namespace PrivateServer.Server.Api;

/// <summary>Who is calling the module API: an enrolled host (client certificate) or a supporter (bearer token).</summary>
public sealed class ModuleIdentity(
    IHostStore hosts, IApiTokenStore tokens, IUserStore users, IOptions<BrokerOptions> options, TimeProvider time)
{
    /// <summary>The enrolled, unrevoked host whose current certificate this connection presented; null otherwise.</summary>
    public async Task<HostRecord?> AuthenticateHostAsync(HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        // The handshake checked chain, usage and revocation list; here the certificate must be
        // exactly the one issued to an enrolled, unrevoked host (also covers resumed TLS sessions).
        var certificate = context.Connection.ClientCertificate;
        if (certificate is null)
        {
            return null;
        }

        var hostId = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        var host = string.IsNullOrEmpty(hostId) ? null : await hosts.FindAsync(hostId, cancellationToken);
        var thumbprint = certificate.GetCertHashString(HashAlgorithmName.SHA256);
        return host is { Revoked: false } && string.Equals(host.CertificateThumbprint, thumbprint, StringComparison.OrdinalIgnoreCase) ? host : null;
    }

    /// <summary>The signed-in supporter (or admin) behind the bearer token; null when missing, unknown, expired or disabled.</summary>
    public async Task<User?> AuthenticateSupporterAsync(HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var header = context.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || header.Length > 200)
        {
            return null;
        }

        var token = await tokens.FindAsync(SecretToken.Hash(header[scheme.Length..].Trim()), cancellationToken);
        if (token is null || token.ExpiresAt <= time.GetUtcNow())
        {
            return null;
        }

        var user = await users.FindAsync(token.User, cancellationToken);
        return user is { Disabled: false, Role: Role.Supporter or Role.Admin } ? user : null;
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
