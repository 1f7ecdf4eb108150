using System.Globalization;
using PrivateServer.Protocol.Sessions;

namespace PrivateServer.HostModule.Agent;

/// <summary>
/// A service the host offers: a name the supporter sees and the local target it is relayed to (the
/// target never leaves the host). The service named <c>screen</c> is the host's VNC server.
/// </summary>
internal sealed record ServiceTarget(string Name, string Host, int Port)
{
    public bool IsScreen => Name == SessionPermissions.ScreenService;

    /// <summary>Parses NAME=HOST:PORT (IPv6 as [::1]:5900).</summary>
    public static ServiceTarget Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        var colon = text.LastIndexOf(':');
        if (equals <= 0 || colon <= equals + 1)
        {
            throw new ArgumentException($"--service '{text}' is not NAME=HOST:PORT");
        }

        var name = text[..equals];
        var host = text[(equals + 1)..colon].Trim('[', ']');
        if (!SessionPermissions.IsValidServiceName(name))
        {
            throw new ArgumentException($"--service '{text}': a service name is 1–32 lower-case letters, digits, '-' or '_'");
        }

        if (SessionPermissions.IsBuiltIn(name))
        {
            throw new ArgumentException($"--service '{text}': the name '{name}' belongs to a built-in service (--files DIR shares a folder; system information is always offered)");
        }

        if (!int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new ArgumentException($"--service '{text}': the port must be 1–65535");
        }

        return new ServiceTarget(name, host, port);
    }
}
