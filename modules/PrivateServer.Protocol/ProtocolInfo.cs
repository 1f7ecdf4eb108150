using System.Reflection;

namespace PrivateServer.Protocol;

/// <summary>Facts about the wire protocol that server and modules share.</summary>
public static class ProtocolInfo
{
    /// <summary>Version carried in every control message; bumped on incompatible changes.</summary>
    public const int Version = 1;

    /// <summary>
    /// The TLS server name modules send. The server answers it with the module certificate issued
    /// by the appliance CA, so replacing the browser-facing certificate never breaks a module.
    /// </summary>
    public const string ModuleServerName = "modules.privateserver.invalid";

    /// <summary>
    /// The ALPN protocol of an enrolled host's control channel: a TLS connection (with the host's
    /// client certificate) that names it carries WebSocket frames from its first byte, no HTTP.
    /// </summary>
    public const string HostChannelProtocol = "privateserver-host/1";

    /// <summary>The product version of the calling program (informational version without build metadata).</summary>
    public static string ProductVersion(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? assembly.GetName().Version?.ToString()
            ?? "0.0.0";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? informational : informational[..plus];
    }
}
