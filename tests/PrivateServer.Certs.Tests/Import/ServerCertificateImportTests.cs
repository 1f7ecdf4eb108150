using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PrivateServer.Certs.Import;

namespace PrivateServer.Certs.Tests.Import;

/// <summary>A company CA (root → intermediate → server) made here, and what the import accepts and refuses of it.</summary>
public sealed class ServerCertificateImportTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);
    private static readonly string[] HostNames = ["support.example.internal"];

    private readonly ECDsa _rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP384);
    private readonly ECDsa _intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _root;
    private readonly X509Certificate2 _intermediate;

    public ServerCertificateImportTests()
    {
        var root = new CertificateRequest("CN=Example Root", _rootKey, HashAlgorithmName.SHA384);
        root.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        root.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        _root = root.CreateSelfSigned(Now.AddYears(-1), Now.AddYears(10));
        var intermediate = new CertificateRequest("CN=Example Issuing CA", _intermediateKey, HashAlgorithmName.SHA256);
        intermediate.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        intermediate.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var issued = intermediate.Create(_root, Now.AddYears(-1), Now.AddYears(5), [1, 2, 3]);
        _intermediate = issued.CopyWithPrivateKey(_intermediateKey);
    }

    [Fact]
    public void Pem_WithChainToTheRoot_IsAccepted_AndServedWithItsIntermediate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var candidate = ServerCertificateImport.ReadPem(Pem(Server(key), _intermediate, _root), key.ExportPkcs8PrivateKeyPem(), null);

        var chain = ServerCertificateImport.Validate(candidate, [], HostNames, Now);

        chain.Should().ContainSingle().Which.Subject.Should().Be("CN=Example Issuing CA");
        candidate.Certificate.HasPrivateKey.Should().BeTrue();
    }

    [Fact]
    public void Pfx_AndEncryptedPemKey_AreAccepted_WithTheRootGivenApart()
    {
        using var key = RSA.Create(3072);
        using var server = Server(key);
        using var withKey = server.CopyWithPrivateKey(key);
        var pfx = new X509Certificate2Collection { withKey, _intermediate }.Export(X509ContentType.Pkcs12, "pfx-password")!;
        var encrypted = key.ExportEncryptedPkcs8PrivateKeyPem("key-password", new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 100_000));

        using var fromPfx = ServerCertificateImport.ReadPfx(pfx, "pfx-password");
        using var fromPem = ServerCertificateImport.ReadPem(Pem(server, _intermediate), encrypted, "key-password");

        ServerCertificateImport.Validate(fromPfx, [_root], HostNames, Now).Should().ContainSingle();
        ServerCertificateImport.Validate(fromPem, [_root], HostNames, Now).Should().ContainSingle();
    }

    public static TheoryData<string, string> Refusals => new()
    {
        { "wrong-key", "the private key does not belong to the certificate (or is not a PEM private key)" },
        { "expired", "the certificate expired on 2026-11-13 09:00 UTC" },
        { "expiring", "the certificate expires on 2026-11-26 09:00 UTC, in less than 7 days" },
        { "missing-san", "the certificate does not name the appliance's host name support.example.internal (it names: other.example.internal)" },
        { "incomplete", "the chain is incomplete: the certificate of 'CN=Example Issuing CA', which issued 'CN=support.example.internal', was not given" },
        { "no-root", "no root certificate was given: put the chain up to the root into the file, or give the root with --ca-file" },
        { "no-server-auth", "the certificate is not for TLS servers: its extended key usage lacks serverAuth" },
        { "weak-rsa", "the key must be RSA with at least 2048 bits or ECDSA P-256 or P-384" },
        { "self-signed", "the certificate is self-signed; import one issued by your company's CA" },
        { "encrypted-no-password", "the private key is encrypted: give its password with --password-file" },
        { "encrypted-wrong-password", "the private key cannot be read: its password is wrong, or it does not belong to the certificate" },
        { "pfx-wrong-password", "the PFX file cannot be opened: its password is wrong, or it is not a PFX (PKCS#12) file" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Bad_Certificates_AreRefusedWithOneClearLine(string kind, string refusal)
    {
        var act = () =>
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var candidate = kind switch
            {
                "wrong-key" => ServerCertificateImport.ReadPem(Pem(Server(key), _intermediate, _root), other.ExportPkcs8PrivateKeyPem(), null),
                "expired" => ServerCertificateImport.ReadPem(Pem(Server(key, notAfter: Now.AddDays(-10)), _intermediate, _root), key.ExportPkcs8PrivateKeyPem(), null),
                "expiring" => ServerCertificateImport.ReadPem(Pem(Server(key, notAfter: Now.AddDays(3)), _intermediate, _root), key.ExportPkcs8PrivateKeyPem(), null),
                "missing-san" => ServerCertificateImport.ReadPem(Pem(Server(key, name: "other.example.internal"), _intermediate, _root), key.ExportPkcs8PrivateKeyPem(), null),
                "incomplete" => ServerCertificateImport.ReadPem(Pem(Server(key), _root), key.ExportPkcs8PrivateKeyPem(), null),
                "no-root" => ServerCertificateImport.ReadPem(Pem(Server(key), _intermediate), key.ExportPkcs8PrivateKeyPem(), null),
                "no-server-auth" => ServerCertificateImport.ReadPem(Pem(Server(key, serverAuth: false), _intermediate, _root), key.ExportPkcs8PrivateKeyPem(), null),
                "weak-rsa" => WeakRsa(),
                "self-signed" => SelfSigned(key),
                "encrypted-no-password" => ServerCertificateImport.ReadPem(Pem(Server(key), _intermediate, _root), Encrypted(key), null),
                "encrypted-wrong-password" => ServerCertificateImport.ReadPem(Pem(Server(key), _intermediate, _root), Encrypted(key), "not-it"),
                _ => ServerCertificateImport.ReadPfx(new X509Certificate2Collection { Server(key).CopyWithPrivateKey(key) }.Export(X509ContentType.Pkcs12, "right")!, "wrong"),
            };
            ServerCertificateImport.Validate(candidate, [], HostNames, Now);
        };

        act.Should().Throw<CertificateImportException>().WithMessage(refusal);
    }

    public void Dispose()
    {
        _root.Dispose();
        _intermediate.Dispose();
        _rootKey.Dispose();
        _intermediateKey.Dispose();
    }

    private static string Encrypted(ECDsa key) =>
        key.ExportEncryptedPkcs8PrivateKeyPem("key-password", new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 100_000));

    private static string Pem(params X509Certificate2[] certificates) => string.Concat(certificates.Select(c => c.ExportCertificatePem() + "\n"));

    private CandidateCertificate WeakRsa()
    {
        using var rsa = RSA.Create(1024);
        var request = new CertificateRequest("CN=support.example.internal", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        Decorate(request, "support.example.internal", serverAuth: true);
        using var server = request.Create(_intermediate.SubjectName, X509SignatureGenerator.CreateForECDsa(_intermediateKey), Now.AddDays(-1), Now.AddDays(90), [9]);
        return ServerCertificateImport.ReadPem(Pem(server, _intermediate, _root), rsa.ExportPkcs8PrivateKeyPem(), null);
    }

    private static CandidateCertificate SelfSigned(ECDsa key)
    {
        var request = new CertificateRequest("CN=support.example.internal", key, HashAlgorithmName.SHA256);
        Decorate(request, "support.example.internal", serverAuth: true);
        using var server = request.CreateSelfSigned(Now.AddDays(-1), Now.AddDays(90));
        return ServerCertificateImport.ReadPem(Pem(server), key.ExportPkcs8PrivateKeyPem(), null);
    }

    private X509Certificate2 Server(AsymmetricAlgorithm key, DateTimeOffset? notAfter = null, string name = "support.example.internal", bool serverAuth = true)
    {
        var request = key is RSA rsa
            ? new CertificateRequest($"CN={name}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest($"CN={name}", (ECDsa)key, HashAlgorithmName.SHA256);
        Decorate(request, name, serverAuth);
        var end = notAfter ?? Now.AddDays(90);
        return request.Create(
            _intermediate.SubjectName, X509SignatureGenerator.CreateForECDsa(_intermediateKey), end.AddDays(-30) < Now.AddDays(-20) ? end.AddDays(-30) : Now.AddDays(-20), end,
            RandomNumberGenerator.GetBytes(8));
    }

    private static void Decorate(CertificateRequest request, string name, bool serverAuth)
    {
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(name);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(serverAuth ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
    }
}
