using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PrivateServer.Certs.Authority;
using PrivateServer.Certs.Issuance;
using PrivateServer.Protocol.Files;
using PrivateServer.Protocol;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tls;

/// <summary>
/// The certificates the server presents, loaded from the data folder: the browser-facing server
/// certificate and the module certificate (answered to the fixed module TLS name, always issued
/// by the appliance CA), plus the CA itself, which issues host certificates. TLS asks this store
/// at every handshake, so a replaced certificate takes effect without a restart.
/// </summary>
public sealed class ServerCertificateStore : IDisposable
{
    /// <summary>The module certificate is renewed at start when it has less than this left.</summary>
    public static readonly TimeSpan ModuleRenewalMargin = TimeSpan.FromDays(60);

    private readonly X509Certificate2 _moduleCertificate;
    private readonly List<Served> _retired = [];
    private Served _served;

    private ServerCertificateStore(
        X509Certificate2 certificate, X509Certificate2Collection chain, X509Certificate2 moduleCertificate, ApplianceAuthority authority)
    {
        _served = new Served(certificate, chain, SslStreamCertificateContext.Create(certificate, chain, offline: true));
        _moduleCertificate = moduleCertificate;
        Authority = authority;
        CaCertificate = X509CertificateLoader.LoadCertificate(authority.Certificate.RawData);
        // Modules ask with the module name: they get the CA-issued certificate plus the CA (which they
        // pin), and are asked for their client certificate, naming the appliance CA as the only issuer.
        var trust = SslCertificateTrust.CreateForX509Collection([CaCertificate], sendTrustInHandshake: !OperatingSystem.IsWindows());
        ModuleContext = SslStreamCertificateContext.Create(moduleCertificate, [CaCertificate], offline: true, trust);
    }

    /// <summary>What browsers get at the next handshake.</summary>
    public SslStreamCertificateContext Context => Volatile.Read(ref _served).Context;

    public SslStreamCertificateContext ModuleContext { get; }

    /// <summary>The server certificate browsers get now (with its key).</summary>
    public X509Certificate2 Certificate => Volatile.Read(ref _served).Certificate;

    /// <summary>The certificates sent with <see cref="Certificate"/>.</summary>
    public X509Certificate2Collection Chain => Volatile.Read(ref _served).Chain;

    /// <summary>The appliance CA with its private key: issues host certificates.</summary>
    public ApplianceAuthority Authority { get; }

    /// <summary>The appliance CA certificate without its key (trust anchor for host certificates).</summary>
    public X509Certificate2 CaCertificate { get; }

    public static ServerCertificateStore Load(DataFolder folder, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(folder);
        try
        {
            var masterKey = folder.ReadMasterKey();
            var (certificate, chain) = ReadServerCertificate(folder.ServerCertificatePath, folder.ServerKeyPath, masterKey);
            var authority = ApplianceAuthority.FromCertificate(
                PrivateKeyPem.LoadWithKey(File.ReadAllText(folder.CaCertificatePath), File.ReadAllText(folder.CaKeyPath), masterKey));
            var module = LoadOrIssueModuleCertificate(folder, authority, masterKey, now);
            return new ServerCertificateStore(certificate, chain, module, authority);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new DataFolderException($"cannot load the certificates from {folder.Root}: {ex.Message}", ex);
        }
    }

    /// <summary>The appliance CA certificate (no private key) from the data folder.</summary>
    public static X509Certificate2 LoadCaCertificate(DataFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        try
        {
            return X509Certificate2.CreateFromPem(File.ReadAllText(folder.CaCertificatePath));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new DataFolderException($"cannot read the appliance CA certificate {folder.CaCertificatePath}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Serves another browser-facing certificate from the next handshake on (the store owns it and its chain from now
    /// on); connections already open keep theirs. Modules are not affected: they get the module certificate.
    /// </summary>
    public void Replace(X509Certificate2 certificate, X509Certificate2Collection chain)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(chain);
        var next = new Served(certificate, chain, SslStreamCertificateContext.Create(certificate, chain, offline: true));
        var old = Interlocked.Exchange(ref _served, next);
        lock (_retired)
        {
            // A handshake may still be using it; it goes with the store.
            _retired.Add(old);
        }
    }

    /// <summary>Reads the server certificate and its chain (key decrypted with the master key) as the data folder has them now.</summary>
    public static (X509Certificate2 Certificate, X509Certificate2Collection Chain) ReadServerCertificate(string certificatePath, string keyPath, string masterKey)
    {
        var pem = File.ReadAllText(certificatePath);
        var certificate = PrivateKeyPem.LoadWithKey(pem, File.ReadAllText(keyPath), masterKey);
        var chain = new X509Certificate2Collection();
        chain.ImportFromPem(pem);
        chain[0].Dispose();
        chain.RemoveAt(0);
        return (certificate, chain);
    }

    public void Dispose()
    {
        _moduleCertificate.Dispose();
        CaCertificate.Dispose();
        Authority.Dispose();
        lock (_retired)
        {
            foreach (var served in _retired.Append(_served))
            {
                served.Dispose();
            }
        }
    }

    private static X509Certificate2 LoadOrIssueModuleCertificate(DataFolder folder, ApplianceAuthority authority, string masterKey, DateTimeOffset now)
    {
        if (File.Exists(folder.ModuleCertificatePath) && File.Exists(folder.ModuleKeyPath))
        {
            var existing = PrivateKeyPem.LoadWithKey(
                File.ReadAllText(folder.ModuleCertificatePath), File.ReadAllText(folder.ModuleKeyPath), masterKey);
            if (existing.NotAfter.ToUniversalTime() - now.UtcDateTime > ModuleRenewalMargin && existing.Issuer == authority.Certificate.Subject)
            {
                return existing;
            }

            existing.Dispose();
        }

        var issued = authority.IssueServerCertificate(
            [SubjectName.Parse(ProtocolInfo.ModuleServerName)], now, ServerCertificatePolicy.MaximumValidity);
        SecureFile.WriteAllText(folder.ModuleKeyPath, PrivateKeyPem.ExportEncrypted(issued, masterKey));
        SecureFile.WriteAllText(folder.ModuleCertificatePath, PrivateKeyPem.ExportCertificates(issued, authority.Certificate));
        return issued;
    }

    private sealed record Served(X509Certificate2 Certificate, X509Certificate2Collection Chain, SslStreamCertificateContext Context)
    {
        public void Dispose()
        {
            Certificate.Dispose();
            foreach (var certificate in Chain)
            {
                certificate.Dispose();
            }
        }
    }
}
