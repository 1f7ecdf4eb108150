using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using PrivateServer.Certs.Issuance;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tls;

/// <summary>
/// Checks host client certificates during the TLS handshake: issued by the appliance CA (no other
/// root), EKU clientAuth, valid now, and not revoked. A revoked certificate fails the handshake
/// itself — a resumed TLS 1.3 session too (the callback gets the certificate kept with the session);
/// the endpoints check the host record again.
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

    public bool IsRevoked(X509Certificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return _revokedThumbprints.ContainsKey(certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256));
    }

    /// <summary>
    /// The chain policy the TLS stack builds the client's chain with: the appliance CA as the only
    /// root and EKU clientAuth — so <see cref="Validate"/> need not build the chain a second time.
    /// </summary>
    public X509ChainPolicy CreateChainPolicy()
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
        };
        policy.CustomTrustStore.Add(_ca);
        policy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid(ModuleCertificatePolicy.ClientAuthOid));
        return policy;
    }

    /// <summary>
    /// The TLS callback (with <see cref="CreateChainPolicy"/>): no certificate is fine (the endpoint
    /// decides); a certificate that does not chain to the appliance CA for clientAuth, or a revoked
    /// one, fails the handshake.
    /// </summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            return true;
        }

        // The chain (appliance CA as the only root) was built with CreateChainPolicy; the EKU must be
        // present, not merely unrestricted. SslStream always hands over an X509Certificate2.
        return errors == SslPolicyErrors.None && chain is not null
            && certificate is X509Certificate2 typed && HasClientAuth(typed) && !IsRevoked(typed);
    }

    public bool IsValidHostCertificate(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (IsRevoked(certificate) || !HasClientAuth(certificate))
        {
            return false;
        }

        using var chain = new X509Chain { ChainPolicy = CreateChainPolicy() };
        return chain.Build(certificate);
    }

    /// <remarks>
    /// Read from a copy: reading a certificate's extensions keeps them all, parsed, with the certificate —
    /// and the connection keeps the certificate it was handed for as long as the host is online.
    /// </remarks>
    private static bool HasClientAuth(X509Certificate2 certificate)
    {
        using var copy = X509CertificateLoader.LoadCertificate(certificate.RawDataMemory.Span);
        return copy.Extensions.OfType<X509EnhancedKeyUsageExtension>()
            .Any(e => e.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Any(o => o.Value == ModuleCertificatePolicy.ClientAuthOid));
    }
}
