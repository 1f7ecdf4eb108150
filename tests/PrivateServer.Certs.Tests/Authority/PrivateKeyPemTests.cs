using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PrivateServer.Certs.Authority;

namespace PrivateServer.Certs.Tests.Authority;

public sealed class PrivateKeyPemTests
{
    [Fact]
    public void LoadWithKey_WhenExportedEncrypted_RoundTripsAndSigns()
    {
        using var authority = ApplianceAuthority.Create("Test CA", DateTimeOffset.UtcNow);
        var password = "0123456789abcdef0123456789abcdef";

        var keyPem = PrivateKeyPem.ExportEncrypted(authority.Certificate, password);
        using var loaded = PrivateKeyPem.LoadWithKey(authority.Certificate.ExportCertificatePem(), keyPem, password);

        keyPem.Should().StartWith("-----BEGIN ENCRYPTED PRIVATE KEY-----");
        loaded.Thumbprint.Should().Be(authority.Certificate.Thumbprint);
        using var key = loaded.GetECDsaPrivateKey()!;
        var signature = key.SignData("audit"u8, HashAlgorithmName.SHA384);
        authority.Certificate.GetECDsaPublicKey()!.VerifyData("audit"u8, signature, HashAlgorithmName.SHA384).Should().BeTrue();
    }

    [Fact]
    public void LoadWithKey_WhenPasswordIsWrong_Throws()
    {
        using var authority = ApplianceAuthority.Create("Test CA", DateTimeOffset.UtcNow);
        var keyPem = PrivateKeyPem.ExportEncrypted(authority.Certificate, "right-password-right-password");

        var act = () => PrivateKeyPem.LoadWithKey(authority.Certificate.ExportCertificatePem(), keyPem, "wrong-password-wrong-password");

        act.Should().Throw<CryptographicException>();
    }

    [Fact]
    public void ExportCertificates_WhenGivenAChain_WritesLeafFirst()
    {
        using var authority = ApplianceAuthority.Create("Test CA", DateTimeOffset.UtcNow);
        using var leaf = authority.IssueServerCertificate([PrivateServer.Certs.Issuance.SubjectName.Parse("localhost")], DateTimeOffset.UtcNow, TimeSpan.FromDays(1));

        var pem = PrivateKeyPem.ExportCertificates(leaf, authority.Certificate);

        var collection = new X509Certificate2Collection();
        collection.ImportFromPem(pem);
        collection.Select(c => c.Thumbprint).Should().Equal(leaf.Thumbprint, authority.Certificate.Thumbprint);
    }
}
