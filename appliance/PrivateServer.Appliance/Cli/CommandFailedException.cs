namespace PrivateServer.Appliance.Cli;

/// <summary>A verb could not do what was asked; the message is the one line printed on standard error.</summary>
public sealed class CommandFailedException : Exception
{
    public CommandFailedException()
    {
    }

    public CommandFailedException(string message)
        : base(message)
    {
    }

    public CommandFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
