using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using PrivateServer.Certs.Issuance;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tls;

/// <summary>
/// Checks host client certificates during the TLS handshake: issued by the appliance CA (no other
/// root), EKU clientAuth, valid now, and not revoked. A revoked certificate fails the handshake
/// itself; the endpoints check the host record again (TLS session resumption skips this callback).
/// </summary>
public sealed class HostCertificateValidator
{
    private readonly X509Certificate2 _ca;
    private readonly ConcurrentDictionary<string, bool> _revokedThumbprints;

    private HostCertificateValidator(X509Certificate2 ca, IEnumerable<string> revokedThumbprints)
    {
        _ca = ca;
        _revokedThumbprints = new ConcurrentDictionary<string, bool>(
            revokedThumbprints.Select(t => KeyValuePair.Create(t, true)), StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Loads the revoked host certificates from the database (at start, before listening).</summary>
    public static HostCertificateValidator Load(X509Certificate2 ca, ApplianceDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        var revoked = database.Lite.GetCollection<LiteDbHostStore.HostDocument>("hosts")
            .Find(h => h.RevokedAt != null)
            .Select(h => h.CertificateThumbprint)
            .ToList();
        return new HostCertificateValidator(ca, revoked);
    }

    public void Revoke(string thumbprint) => _revokedThumbprints[thumbprint] = true;

    public bool IsRevoked(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return _revokedThumbprints.ContainsKey(certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256));
    }

    /// <summary>The TLS callback: no certificate is fine (the endpoint decides); a bad one fails the handshake.</summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            return true;
        }

        if (certificate is X509Certificate2 typed)
        {
            return IsValidHostCertificate(typed);
        }

        using var converted = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return IsValidHostCertificate(converted);
    }

    public bool IsValidHostCertificate(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (IsRevoked(certificate) || !HasClientAuth(certificate))
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid(ModuleCertificatePolicy.ClientAuthOid));
        return chain.Build(certificate);
    }

    private static bool HasClientAuth(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>()
            .Any(e => e.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Any(o => o.Value == ModuleCertificatePolicy.ClientAuthOid));
}
