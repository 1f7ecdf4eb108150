using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PrivateServer.IntegrationTests.Infrastructure;

/// <summary>
/// A company CA made with openssl, as an admin would: a root and server certificates it issues (PEM files in a temp
/// folder), plus PFX export. Disposing removes the folder.
/// </summary>
public sealed class CompanyCa : IDisposable
{
    private CompanyCa(string folder)
    {
        Folder = folder;
    }

    public string Folder { get; }

    public string RootPem => Path.Combine(Folder, "root.pem");

    public static async Task<CompanyCa> CreateAsync(CancellationToken cancellationToken)
    {
        var ca = new CompanyCa(Directory.CreateTempSubdirectory("ps-company-ca-").FullName);
        await ca.OpensslAsync(cancellationToken,
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes", "-keyout", "root.key", "-out", "root.pem", "-days", "3650",
            "-subj", "/O=Example Company/CN=Example Company Root", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        return ca;
    }

    /// <summary>Issues NAME.pem (certificate alone) and NAME.key (unencrypted PKCS#8) for the DNS names, valid <paramref name="days"/> days.</summary>
    public async Task<(string Certificate, string Key)> IssueAsync(string name, IReadOnlyList<string> dnsNames, int days, CancellationToken cancellationToken)
    {
        var extensions = Path.Combine(Folder, name + ".ext");
        await File.WriteAllTextAsync(
            extensions,
            $"subjectAltName={string.Join(',', dnsNames.Select(n => "DNS:" + n))}\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n",
            cancellationToken);
        await OpensslAsync(cancellationToken, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
            "-subj", $"/O=Example Company/CN={dnsNames[0]}");
        await OpensslAsync(cancellationToken, "x509", "-req", "-in", name + ".csr", "-CA", "root.pem", "-CAkey", "root.key", "-CAcreateserial", "-out", name + ".pem",
            "-days", days.ToString(CultureInfo.InvariantCulture), "-extfile", name + ".ext");
        return (Path.Combine(Folder, name + ".pem"), Path.Combine(Folder, name + ".key"));
    }

    /// <summary>
    /// Certificates openssl cannot easily make here, signed with the same root key: NAME.pem / NAME.key either already expired,
    /// or issued by an intermediate CA that is not in the file (an incomplete chain).
    /// </summary>
    public (string Certificate, string Key) IssueWithDotNet(string name, IReadOnlyList<string> dnsNames, bool expired, bool belowIntermediate)
    {
        using var root = X509Certificate2.CreateFromPemFile(RootPem, Path.Combine(Folder, "root.key"));
        using var rootKey = root.GetECDsaPrivateKey()!;
        var now = DateTimeOffset.UtcNow;
        using var intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        X500DistinguishedName issuerName = root.SubjectName;
        var signer = X509SignatureGenerator.CreateForECDsa(rootKey);
        if (belowIntermediate)
        {
            var intermediate = new CertificateRequest("CN=Example Company Issuing CA, O=Example Company", intermediateKey, HashAlgorithmName.SHA256);
            intermediate.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
            intermediate.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            using var issued = intermediate.Create(root.SubjectName, signer, now.AddDays(-1), now.AddYears(2), RandomNumberGenerator.GetBytes(8));
            (issuerName, signer) = (issued.SubjectName, X509SignatureGenerator.CreateForECDsa(intermediateKey));
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={dnsNames[0]}, O=Example Company", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var dnsName in dnsNames)
        {
            names.AddDnsName(dnsName);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.Create(
            issuerName, signer, expired ? now.AddDays(-60) : now.AddDays(-1), expired ? now.AddDays(-1) : now.AddDays(90), RandomNumberGenerator.GetBytes(8));
        var paths = (Certificate: Path.Combine(Folder, name + ".pem"), Key: Path.Combine(Folder, name + ".key"));
        File.WriteAllText(paths.Certificate, certificate.ExportCertificatePem() + "\n");
        File.WriteAllText(paths.Key, key.ExportPkcs8PrivateKeyPem() + "\n");
        return paths;
    }

    /// <summary>NAME.pfx with the certificate, its key and the root, protected by <paramref name="password"/>.</summary>
    public async Task<string> ExportPfxAsync(string name, string password, CancellationToken cancellationToken)
    {
        await OpensslAsync(cancellationToken, "pkcs12", "-export", "-in", name + ".pem", "-inkey", name + ".key", "-certfile", "root.pem",
            "-out", name + ".pfx", "-passout", "pass:" + password);
        return Path.Combine(Folder, name + ".pfx");
    }

    /// <summary>The SHA-256 (hex, lower case) of a PEM certificate file's first certificate, as openssl prints it.</summary>
    public async Task<string> FingerprintAsync(string pem, CancellationToken cancellationToken)
    {
        var printed = await OpensslAsync(cancellationToken, "x509", "-in", pem, "-noout", "-fingerprint", "-sha256");
        return printed.Split('=')[1].Trim().Replace(":", string.Empty, StringComparison.Ordinal).ToLowerInvariant();
    }

    /// <summary>The SHA-256 of the certificate a browser-like TLS client (server name <paramref name="serverName"/>) is given on a new connection.</summary>
    public static async Task<string> PresentedFingerprintAsync(int port, string serverName, CancellationToken cancellationToken)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port, cancellationToken);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(
            new SslClientAuthenticationOptions
            {
                TargetHost = serverName,
                // Only which certificate is presented matters here, not whom it is trusted by.
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null,
            },
            cancellationToken);
        return Convert.ToHexStringLower(SHA256.HashData(tls.RemoteCertificate!.GetRawCertData()));
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);

    private async Task<string> OpensslAsync(CancellationToken cancellationToken, params string[] arguments)
    {
        var result = await ChildProcess.RunAsync("openssl", arguments, cancellationToken, workingDirectory: Folder);
        return result.ExitCode == 0 ? result.Stdout : throw new InvalidOperationException($"openssl {arguments[0]} failed: {result.Stderr}");
    }
}
