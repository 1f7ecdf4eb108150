using System.Security.Cryptography.X509Certificates;

namespace PrivateServer.Certs.Import;

/// <summary>A server certificate with its private key, and the other certificates that came with it (intermediates, roots).</summary>
public sealed class CandidateCertificate : IDisposable
{
    public CandidateCertificate(X509Certificate2 certificate, X509Certificate2Collection others)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(others);
        Certificate = certificate;
        Others = others;
    }

    /// <summary>The certificate to serve, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    public X509Certificate2Collection Others { get; }

    public void Dispose()
    {
        Certificate.Dispose();
        foreach (var other in Others)
        {
            other.Dispose();
        }
    }
}
