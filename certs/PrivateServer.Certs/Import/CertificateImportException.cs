namespace PrivateServer.Certs.Import;

/// <summary>A certificate to import was refused; the message is the one line for the admin.</summary>
public sealed class CertificateImportException : Exception
{
    public CertificateImportException()
    {
    }

    public CertificateImportException(string message)
        : base(message)
    {
    }

    public CertificateImportException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
