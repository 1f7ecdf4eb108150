using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using PrivateServer.Certs.Authority;
using PrivateServer.Protocol.Files;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Audit;

/// <summary>
/// Signs audit exports and the audit trail's head with the audit signing key: a CMS (PKCS#7)
/// SignedData, detached, SHA-256 with ECDSA P-256, carrying the signing certificate and the
/// appliance CA. Anyone with the CA certificate checks it offline:
/// <c>openssl cms -verify -binary -inform DER -in FILE.sig -content FILE -CAfile ca.crt -purpose any</c>.
/// The certificate is issued by the appliance CA at first use and renewed 60 days before it expires.
/// </summary>
public sealed class AuditSigner : IDisposable
{
    public static readonly TimeSpan Validity = TimeSpan.FromDays(5 * 365);
    public static readonly TimeSpan RenewalMargin = TimeSpan.FromDays(60);

    private readonly X509Certificate2 _certificate;
    private readonly X509Certificate2 _ca;

    private AuditSigner(X509Certificate2 certificate, X509Certificate2 ca)
    {
        _certificate = certificate;
        _ca = ca;
    }

    public X509Certificate2 Certificate => _certificate;

    /// <summary>The signing certificate and the CA, PEM: what an auditor needs beside the CA they trust.</summary>
    public string ChainPem => PrivateKeyPem.ExportCertificates(_certificate, _ca);

    /// <summary>Loads the audit signing certificate of the data folder, issuing or renewing it with the appliance CA when needed.</summary>
    public static AuditSigner LoadOrIssue(DataFolder folder, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(folder);
        try
        {
            var masterKey = folder.ReadMasterKey();
            using var authority = ApplianceAuthority.FromCertificate(
                PrivateKeyPem.LoadWithKey(File.ReadAllText(folder.CaCertificatePath), File.ReadAllText(folder.CaKeyPath), masterKey));
            var ca = X509CertificateLoader.LoadCertificate(authority.Certificate.RawData);
            if (File.Exists(folder.AuditSigningCertificatePath) && File.Exists(folder.AuditSigningKeyPath))
            {
                var existing = PrivateKeyPem.LoadWithKey(
                    File.ReadAllText(folder.AuditSigningCertificatePath), File.ReadAllText(folder.AuditSigningKeyPath), masterKey);
                if (existing.NotAfter.ToUniversalTime() - now.UtcDateTime > RenewalMargin && existing.Issuer == ca.Subject)
                {
                    return new AuditSigner(existing, ca);
                }

                existing.Dispose();
            }

            var issued = authority.IssueAuditSigningCertificate(now, Validity);
            SecureFile.WriteAllText(folder.AuditSigningKeyPath, PrivateKeyPem.ExportEncrypted(issued, masterKey));
            SecureFile.WriteAllText(folder.AuditSigningCertificatePath, PrivateKeyPem.ExportCertificates(issued, ca));
            return new AuditSigner(issued, ca);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new DataFolderException($"cannot load or issue the audit signing certificate in {folder.Root}: {ex.Message}", ex);
        }
    }

    /// <summary>A detached CMS signature (DER) over <paramref name="content"/>, with the signing time as a signed attribute.</summary>
    public byte[] SignDetached(byte[] content, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(content);
        var cms = new SignedCms(new ContentInfo(content), detached: true);
        var signer = new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, _certificate)
        {
            DigestAlgorithm = new Oid("2.16.840.1.101.3.4.2.1"), // SHA-256
            IncludeOption = X509IncludeOption.EndCertOnly,
        };
        signer.Certificates.Add(_ca);
        signer.SignedAttributes.Add(new Pkcs9SigningTime(now.UtcDateTime));
        cms.ComputeSignature(signer, silent: true);
        return cms.Encode();
    }

    /// <summary>True when <paramref name="signature"/> is a valid detached signature over <paramref name="content"/> by an audit certificate of this appliance's CA.</summary>
    public bool Verify(byte[] content, byte[] signature)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(signature);
        try
        {
            var cms = new SignedCms(new ContentInfo(content), detached: true);
            cms.Decode(signature);
            cms.CheckSignature(verifySignatureOnly: true);
            var signerCertificate = cms.SignerInfos[0].Certificate;
            if (signerCertificate is null)
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(_ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            // Checked as of the signing time: a head signed years ago stays valid after the certificate expired.
            var signedAt = cms.SignerInfos[0].SignedAttributes.Cast<CryptographicAttributeObject>()
                .SelectMany(a => a.Values.Cast<AsnEncodedData>())
                .OfType<Pkcs9SigningTime>()
                .Select(t => t.SigningTime)
                .FirstOrDefault(DateTime.UtcNow);
            chain.ChainPolicy.VerificationTime = signedAt;
            return chain.Build(signerCertificate);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _certificate.Dispose();
        _ca.Dispose();
    }
}
