using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PrivateServer.Certs.Authority;

/// <summary>SHA-256 fingerprints of certificates, as modules pin them.</summary>
public static class CertificateFingerprint
{
    /// <summary>SHA-256 of the certificate's DER encoding, 64 lower-case hex digits.</summary>
    public static string Sha256Hex(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));
    }
}
