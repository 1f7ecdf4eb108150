using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PrivateServer.IntegrationTests.Infrastructure;

/// <summary>A company CA of the test's own, and a server certificate from it for 127.0.0.1 — written as PEM files into a folder.</summary>
public static class TestCa
{
    /// <summary>Writes ca.pem, server.pem and server.key into <paramref name="folder"/> and returns their paths.</summary>
    public static (string Ca, string Certificate, string Key) WriteServerCertificate(string folder)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Example Company Test Root", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=smarthost.example.internal", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("smarthost.example.internal");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        using var certificate = request.Create(ca, now.AddDays(-1), now.AddDays(90), RandomNumberGenerator.GetBytes(12));

        var paths = (Ca: Path.Combine(folder, "ca.pem"), Certificate: Path.Combine(folder, "server.pem"), Key: Path.Combine(folder, "server.key"));
        File.WriteAllText(paths.Ca, ca.ExportCertificatePem() + "\n");
        File.WriteAllText(paths.Certificate, certificate.ExportCertificatePem() + "\n" + ca.ExportCertificatePem() + "\n");
        File.WriteAllText(paths.Key, key.ExportPkcs8PrivateKeyPem() + "\n");
        return paths;
    }
}
