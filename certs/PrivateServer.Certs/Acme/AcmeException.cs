namespace PrivateServer.Certs.Acme;

/// <summary>The ACME server refused or failed a step; the message names the step and the server's problem document.</summary>
public sealed class AcmeException : Exception
{
    public AcmeException()
    {
    }

    public AcmeException(string message)
        : base(message)
    {
    }

    public AcmeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
