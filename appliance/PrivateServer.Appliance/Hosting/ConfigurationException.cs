namespace PrivateServer.Appliance.Hosting;

/// <summary>A setting or flag is wrong; the message is one line for the person at the console.</summary>
public sealed class ConfigurationException : Exception
{
    public ConfigurationException()
    {
    }

    public ConfigurationException(string message)
        : base(message)
    {
    }

    public ConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
