using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PrivateServer.Certs.Import;

/// <summary>
/// Reads a company's server certificate (PFX, or PEM chain + PEM key, the key optionally encrypted PKCS#8) and
/// checks it before anything is touched: key type and match, validity now and for at least 7 more days,
/// extended key usage serverAuth, every configured host name among its names, and a chain that ends in a root
/// given in the file or separately. Every refusal is one <see cref="CertificateImportException"/> line.
/// </summary>
public static class ServerCertificateImport
{
    public static readonly TimeSpan MinimumRemaining = TimeSpan.FromDays(7);

    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";
    private const string P256 = "1.2.840.10045.3.1.7";
    private const string P384 = "1.3.132.0.34";

    /// <summary>Reads a PKCS#12 file; the certificate with a private key is the one to serve.</summary>
    public static CandidateCertificate ReadPfx(byte[] pfx, string? password)
    {
        ArgumentNullException.ThrowIfNull(pfx);
        X509Certificate2Collection all;
        try
        {
            all = X509CertificateLoader.LoadPkcs12Collection(pfx, password, X509KeyStorageFlags.Exportable | X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (Exception ex) when (ex is CryptographicException or NotSupportedException)
        {
            throw new CertificateImportException("the PFX file cannot be opened: its password is wrong, or it is not a PFX (PKCS#12) file", ex);
        }

        // The server certificate is the one with a key that is no CA (a PFX may carry its issuer's key too).
        var withKey = all.Where(c => c.HasPrivateKey && c.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true }).ToList();
        if (withKey.Count != 1)
        {
            Dispose(all);
            throw new CertificateImportException(withKey.Count == 0 ? "the PFX file holds no private key of a server certificate" : "the PFX file holds the keys of several server certificates; export only the one to serve");
        }

        var others = new X509Certificate2Collection(all.Where(c => c != withKey[0]).ToArray());
        CheckKey(withKey[0]);
        return new CandidateCertificate(withKey[0], others);
    }

    /// <summary>Reads a PEM chain (server certificate first) and its PEM private key (encrypted PKCS#8 with <paramref name="password"/>).</summary>
    public static CandidateCertificate ReadPem(string certificatesPem, string keyPem, string? password)
    {
        ArgumentNullException.ThrowIfNull(certificatesPem);
        ArgumentNullException.ThrowIfNull(keyPem);
        var all = new X509Certificate2Collection();
        try
        {
            all.ImportFromPem(certificatesPem);
        }
        catch (CryptographicException ex)
        {
            throw new CertificateImportException("the certificate file is not valid PEM", ex);
        }

        if (all.Count == 0)
        {
            throw new CertificateImportException("the certificate file holds no certificate (PEM, -----BEGIN CERTIFICATE-----)");
        }

        if (!keyPem.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            Dispose(all);
            throw new CertificateImportException("the key file holds no private key (PEM, -----BEGIN PRIVATE KEY-----)");
        }

        var encrypted = keyPem.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal);
        if (encrypted && password is null)
        {
            Dispose(all);
            throw new CertificateImportException("the private key is encrypted: give its password with --password-file");
        }

        X509Certificate2 withKey;
        try
        {
            var leafPem = all[0].ExportCertificatePem();
            using var loaded = encrypted ? X509Certificate2.CreateFromEncryptedPem(leafPem, keyPem, password) : X509Certificate2.CreateFromPem(leafPem, keyPem);
            // An exportable copy: the key is stored again, encrypted with the appliance's master key.
            withKey = X509CertificateLoader.LoadPkcs12(loaded.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.Exportable | X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException or NotSupportedException)
        {
            // NotSupportedException (and PlatformNotSupportedException): an unknown key algorithm or curve (found by fuzzing).
            Dispose(all);
            throw new CertificateImportException(
                encrypted ? "the private key cannot be read: its password is wrong, or it does not belong to the certificate"
                : "the private key does not belong to the certificate (or is not a PEM private key)",
                ex);
        }

        var others = new X509Certificate2Collection(all.Skip(1).ToArray());
        all[0].Dispose();
        CheckKey(withKey);
        return new CandidateCertificate(withKey, others);
    }

    /// <summary>
    /// Checks the candidate; returns the chain to send with it (intermediates up to, not including, the root).
    /// <paramref name="extraRoots"/> are roots given apart from the file (<c>--ca-file</c>).
    /// </summary>
    public static IReadOnlyList<X509Certificate2> Validate(
        CandidateCertificate candidate, X509Certificate2Collection extraRoots, IEnumerable<string> hostNames, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(extraRoots);
        var certificate = candidate.Certificate;
        CheckServerUse(certificate, hostNames, now);
        if (certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData))
        {
            throw new CertificateImportException("the certificate is self-signed; import one issued by your company's CA");
        }

        var roots = candidate.Others.Concat(extraRoots).Where(IsSelfSigned).ToList();
        if (roots.Count == 0)
        {
            throw new CertificateImportException("no root certificate was given: put the chain up to the root into the file, or give the root with --ca-file");
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots.ToArray());
        chain.ChainPolicy.ExtraStore.AddRange(candidate.Others.Where(c => !IsSelfSigned(c)).ToArray());
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        if (!chain.Build(certificate))
        {
            var last = chain.ChainElements[^1].Certificate;
            var statuses = chain.ChainStatus.Select(s => s.Status).ToHashSet();
            throw new CertificateImportException(
                statuses.Contains(X509ChainStatusFlags.PartialChain) || statuses.Contains(X509ChainStatusFlags.UntrustedRoot)
                    ? $"the chain is incomplete: the certificate of '{last.Issuer}', which issued '{last.Subject}', was not given"
                    : $"the chain does not verify: {string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Distinct())}");
        }

        return chain.ChainElements.Skip(1).Select(e => e.Certificate).Where(c => !IsSelfSigned(c))
            .Select(c => X509CertificateLoader.LoadCertificate(c.RawData)).ToList();
    }

    /// <summary>
    /// The checks that hold for every server certificate, also one an ACME CA just issued: valid now and for at least
    /// 7 more days, extended key usage serverAuth, and every host name among its names.
    /// </summary>
    public static void CheckServerUse(X509Certificate2 certificate, IEnumerable<string> hostNames, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(hostNames);
        var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        if (notBefore > now)
        {
            throw new CertificateImportException($"the certificate is not valid yet: it starts on {Day(notBefore)}");
        }

        if (notAfter <= now)
        {
            throw new CertificateImportException($"the certificate expired on {Day(notAfter)}");
        }

        if (notAfter - now < MinimumRemaining)
        {
            throw new CertificateImportException($"the certificate expires on {Day(notAfter)}, in less than 7 days");
        }

        var usage = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        if (usage is null || !usage.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == ServerAuthentication))
        {
            throw new CertificateImportException("the certificate is not for TLS servers: its extended key usage lacks serverAuth");
        }

        foreach (var name in hostNames)
        {
            if (!certificate.MatchesHostname(name, allowWildcards: true, allowCommonName: false))
            {
                throw new CertificateImportException($"the certificate does not name the appliance's host name {name} (it names: {string.Join(", ", Names(certificate))})");
            }
        }
    }

    /// <summary>The DNS names and IP addresses the certificate is for.</summary>
    public static IReadOnlyList<string> Names(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>()
            .SelectMany(san => san.EnumerateDnsNames().Concat(san.EnumerateIPAddresses().Select(ip => ip.ToString())))
            .ToList();
    }

    private static void CheckKey(X509Certificate2 certificate)
    {
        using var rsa = certificate.GetRSAPublicKey();
        using var ecdsa = certificate.GetECDsaPublicKey();
        var curve = ecdsa?.ExportParameters(false).Curve.Oid;
        var named = curve?.Value ?? curve?.FriendlyName switch
        {
            "nistP256" or "ECDSA_P256" or "secp256r1" or "prime256v1" => P256,
            "nistP384" or "ECDSA_P384" or "secp384r1" => P384,
            _ => null,
        };
        if (!(rsa is { KeySize: >= 2048 } || named is P256 or P384))
        {
            throw new CertificateImportException("the key must be RSA with at least 2048 bits or ECDSA P-256 or P-384");
        }
    }

    private static bool IsSelfSigned(X509Certificate2 certificate) => certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData);

    private static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    private static void Dispose(X509Certificate2Collection certificates)
    {
        foreach (var certificate in certificates)
        {
            certificate.Dispose();
        }
    }
}
