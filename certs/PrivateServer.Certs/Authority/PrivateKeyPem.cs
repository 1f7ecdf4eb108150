using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PrivateServer.Certs.Authority;

/// <summary>
/// Private keys at rest: encrypted PKCS#8 PEM (PBES2, PBKDF2-SHA256, AES-256-CBC), the password
/// being the appliance's random master key. Certificates travel as plain PEM.
/// </summary>
public static class PrivateKeyPem
{
    // The password is 256 random bits, so key stretching adds no strength; the count only has to be valid.
    private static readonly PbeParameters Encryption = new(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 10_000);

    public static string ExportEncrypted(X509Certificate2 certificate, ReadOnlySpan<char> password)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using AsymmetricAlgorithm key = (AsymmetricAlgorithm?)certificate.GetECDsaPrivateKey()
            ?? certificate.GetRSAPrivateKey()
            ?? throw new ArgumentException("The certificate has no ECDSA or RSA private key.", nameof(certificate));
        return key.ExportEncryptedPkcs8PrivateKeyPem(password, Encryption);
    }

    /// <summary>PEM of the certificate followed by the given chain certificates.</summary>
    public static string ExportCertificates(X509Certificate2 leaf, params X509Certificate2[] chain)
    {
        ArgumentNullException.ThrowIfNull(leaf);
        ArgumentNullException.ThrowIfNull(chain);
        return string.Concat(new[] { leaf }.Concat(chain).Select(c => c.ExportCertificatePem() + "\n"));
    }

    /// <summary>Loads the first certificate of a PEM file together with its encrypted private key.</summary>
    public static X509Certificate2 LoadWithKey(string certificatePem, string encryptedKeyPem, ReadOnlySpan<char> password)
    {
        using var loaded = X509Certificate2.CreateFromEncryptedPem(certificatePem, encryptedKeyPem, password);
        // SslStream on Windows cannot use ephemeral keys; a PKCS#12 round trip makes the key usable everywhere.
        return OperatingSystem.IsWindows()
            ? X509CertificateLoader.LoadPkcs12(loaded.Export(X509ContentType.Pkcs12), password: null)
            : new X509Certificate2(loaded);
    }
}
