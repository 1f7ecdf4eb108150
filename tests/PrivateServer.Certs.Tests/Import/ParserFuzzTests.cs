using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PrivateServer.Certs.Import;
using PrivateServer.Certs.Issuance;

namespace PrivateServer.Certs.Tests.Import;

/// <summary>
/// What a host (a certificate request) or an admin (a certificate and key to import) can hand the appliance, mutated:
/// the parsers answer with their own refusal every time, never with an unexpected exception.
/// </summary>
public sealed class ParserFuzzTests
{
    [Fact]
    [Trait("Category", "Fuzz")]
    public void TryReadRequest_WhenTheRequestIsMutated_RefusesOrAccepts_NeverThrows()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=h-0123456789abcdef", key, HashAlgorithmName.SHA256).CreateSigningRequest();

        Fuzz.Run(20261129, 2000, random =>
        {
            var pem = PemEncoding.WriteString("CERTIFICATE REQUEST", Mutate(random, request));

            ModuleCertificatePolicy.TryReadRequest(pem, out _, out var error);

            error.Should().NotBeNull();
        });
    }

    [Fact]
    [Trait("Category", "Fuzz")]
    public void ReadPem_WhenCertificateOrKeyIsMutated_RefusesWithItsOwnException()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=appliance.example.internal", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(90));
        var der = certificate.RawData;
        var pkcs8 = key.ExportPkcs8PrivateKey();

        Fuzz.Run(20261130, 1000, random =>
        {
            var mutateCertificate = random.Next(2) == 0;
            var certificatePem = PemEncoding.WriteString("CERTIFICATE", mutateCertificate ? Mutate(random, der) : der);
            var keyPem = PemEncoding.WriteString("PRIVATE KEY", mutateCertificate ? pkcs8 : Mutate(random, pkcs8));
            try
            {
                using var candidate = ServerCertificateImport.ReadPem(certificatePem, keyPem, password: null);
            }
            catch (CertificateImportException)
            {
                // The admin reads why; nothing is installed.
            }
        });
    }

    [Fact]
    [Trait("Category", "Fuzz")]
    public void ReadPfx_WhenTheFileIsMutated_RefusesWithItsOwnException()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=appliance.example.internal", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(90));
        var pfx = certificate.Export(X509ContentType.Pfx, "secret");

        Fuzz.Run(20261131, 300, random =>
        {
            try
            {
                using var candidate = ServerCertificateImport.ReadPfx(Mutate(random, pfx), "secret");
            }
            catch (CertificateImportException)
            {
                // The admin reads why; nothing is installed.
            }
        });
    }

    /// <summary>DER mutated where the parser has to cope: flipped bytes, cut, grown lengths, inserted junk.</summary>
    private static byte[] Mutate(Random random, byte[] original)
    {
        var bytes = (byte[])original.Clone();
        switch (random.Next(4))
        {
            case 0:
                for (var flips = random.Next(1, 8); flips > 0; flips--)
                {
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                }

                return bytes;
            case 1:
                return bytes[..random.Next(bytes.Length)];
            case 2:
                // A length byte after a tag, made huge or zero.
                var at = random.Next(1, bytes.Length);
                bytes[at] = random.Next(2) == 0 ? (byte)0x84 : (byte)0;
                return bytes;
            default:
                var junk = new byte[random.Next(1, 64)];
                random.NextBytes(junk);
                var position = random.Next(bytes.Length);
                return [.. bytes[..position], .. junk, .. bytes[position..]];
        }
    }
}
