using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PrivateServer.Certs.Issuance;
using PrivateServer.Protocol.Trust;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tls;

/// <summary>
/// Checks host client certificates during the TLS handshake: issued by the appliance CA (no other
/// root), EKU clientAuth, valid now, and not revoked. A revoked certificate fails the handshake
/// itself — a resumed TLS 1.3 session too (the callback gets the certificate kept with the session);
/// the endpoints check the host record again. A certificate's chain is checked once and remembered
/// (<see cref="VerifiedCertificates"/>): a host opens a TLS connection for every relay stream, and
/// each full check costs ~1.5 ms of CPU with the P-384 CA. Revocation is looked at every time.
/// </summary>
public sealed class HostCertificateValidator
{
    /// <summary>How many verified host certificates are remembered: far more than one appliance's hosts.</summary>
    private const int RememberedCertificates = 100_000;

    private readonly X509Certificate2 _ca;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, bool> _revokedThumbprints;
    private readonly VerifiedCertificates _verified;

    private HostCertificateValidator(X509Certificate2 ca, IEnumerable<string> revokedThumbprints, TimeProvider time)
    {
        _ca = ca;
        _time = time;
        _revokedThumbprints = new ConcurrentDictionary<string, bool>(
            revokedThumbprints.Select(t => KeyValuePair.Create(t, true)), StringComparer.OrdinalIgnoreCase);
        _verified = new VerifiedCertificates(time, RememberedCertificates);
    }

    /// <summary>Loads the revoked host certificates from the database (at start, before listening).</summary>
    public static HostCertificateValidator Load(X509Certificate2 ca, ApplianceDatabase database, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(database);
        var revoked = database.Lite.GetCollection<LiteDbHostStore.HostDocument>("hosts")
            .Find(h => h.RevokedAt != null)
            .Select(h => h.CertificateThumbprint)
            .ToList();
        return new HostCertificateValidator(ca, revoked, time ?? TimeProvider.System);
    }

    public void Revoke(string thumbprint)
    {
        ArgumentNullException.ThrowIfNull(thumbprint);
        _revokedThumbprints[thumbprint] = true;
        _verified.Remove(thumbprint);
    }

    /// <summary>The chain policy a host certificate is checked with: the appliance CA as the only root, EKU clientAuth, valid now.</summary>
    private X509ChainPolicy CreateChainPolicy()
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
            VerificationTime = _time.GetLocalNow().DateTime,
        };
        policy.CustomTrustStore.Add(_ca);
        policy.ApplicationPolicy.Add(new Oid(ModuleCertificatePolicy.ClientAuthOid));
        return policy;
    }

    /// <summary>
    /// The TLS callback (the handshake's own chain build uses <see cref="VerifiedCertificates.CallbackOnlyPolicy"/>):
    /// no certificate is fine (the endpoint decides); a certificate that is not a valid host certificate
    /// (<see cref="IsValidHostCertificate"/>) fails the handshake.
    /// </summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) =>
        certificate is null || (certificate is X509Certificate2 typed && IsValidHostCertificate(typed));

    /// <summary>Not revoked, and — checked once, then remembered while it stays valid — EKU clientAuth and a chain to the appliance CA.</summary>
    public bool IsValidHostCertificate(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        // Hashed once for both lookups: this runs in every host's every TLS handshake.
        Span<byte> sha256 = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(certificate.RawDataMemory.Span, sha256);
        if (_revokedThumbprints.ContainsKey(Convert.ToHexString(sha256)))
        {
            return false;
        }

        if (_verified.Contains(sha256))
        {
            return true;
        }

        if (!HasClientAuth(certificate))
        {
            return false;
        }

        using var chain = new X509Chain { ChainPolicy = CreateChainPolicy() };
        if (!chain.Build(certificate))
        {
            return false;
        }

        _verified.Add(sha256, chain);
        return true;
    }

    /// <remarks>
    /// Read from a copy: reading a certificate's extensions keeps them all, parsed, with the certificate —
    /// and the connection keeps the certificate it was handed for as long as the host is online.
    /// </remarks>
    private static bool HasClientAuth(X509Certificate2 certificate)
    {
        using var copy = X509CertificateLoader.LoadCertificate(certificate.RawDataMemory.Span);
        return copy.Extensions.OfType<X509EnhancedKeyUsageExtension>()
            .Any(e => e.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == ModuleCertificatePolicy.ClientAuthOid));
    }
}
