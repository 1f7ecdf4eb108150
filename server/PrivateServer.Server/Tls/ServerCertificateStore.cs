using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using PrivateServer.Certs.Authority;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tls;

/// <summary>
/// The certificate the server presents, with its chain, loaded from the data folder. TLS asks it
/// at every handshake, so a replaced certificate takes effect without a restart.
/// </summary>
public sealed class ServerCertificateStore : IDisposable
{
    private readonly X509Certificate2 _certificate;
    private readonly X509Certificate2Collection _chain;

    private ServerCertificateStore(X509Certificate2 certificate, X509Certificate2Collection chain)
    {
        _certificate = certificate;
        _chain = chain;
        Context = SslStreamCertificateContext.Create(certificate, chain, offline: true);
    }

    public SslStreamCertificateContext Context { get; }

    public X509Certificate2 Certificate => _certificate;

    public static ServerCertificateStore Load(DataFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        try
        {
            var pem = File.ReadAllText(folder.ServerCertificatePath);
            var key = File.ReadAllText(folder.ServerKeyPath);
            var certificate = PrivateKeyPem.LoadWithKey(pem, key, folder.ReadMasterKey());
            var chain = new X509Certificate2Collection();
            chain.ImportFromPem(pem);
            chain.RemoveAt(0);
            return new ServerCertificateStore(certificate, chain);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new DataFolderException($"cannot load the server certificate from {folder.ServerCertificatePath}: {ex.Message}", ex);
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
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new DataFolderException($"cannot read the appliance CA certificate {folder.CaCertificatePath}: {ex.Message}", ex);
        }
    }

    public void Dispose()
    {
        _certificate.Dispose();
        foreach (var certificate in _chain)
        {
            certificate.Dispose();
        }
    }
}
