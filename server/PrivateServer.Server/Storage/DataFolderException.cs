namespace PrivateServer.Server.Storage;

/// <summary>
/// The data folder cannot be used as it is (missing, corrupt, locked, unreadable). The message is
/// one line meant for the person at the console.
/// </summary>
public sealed class DataFolderException : Exception
{
    public DataFolderException()
    {
    }

    public DataFolderException(string message)
        : base(message)
    {
    }

    public DataFolderException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
