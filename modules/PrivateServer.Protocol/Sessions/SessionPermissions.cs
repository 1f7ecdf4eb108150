using System.Text.RegularExpressions;

namespace PrivateServer.Protocol.Sessions;

/// <summary>
/// The rights a session carries (DESIGN.md, Session lifecycle): <c>view</c>, <c>control</c>,
/// <c>files</c> (the host's shared folder), <c>sysinfo</c> (read-only system information), <c>chat</c>, <c>scripts</c> (library scripts) and
/// <c>tunnel:NAME</c> for each service a stream may be opened to. The host grants them; the server and the host both check them.
/// </summary>
public static partial class SessionPermissions
{
    public const string View = "view";
    public const string Control = "control";
    public const string Files = "files";
    public const string SystemInfo = "sysinfo";
    public const string Chat = "chat";
    public const string Scripts = "scripts";
    public const string TunnelPrefix = "tunnel:";

    /// <summary>The built-in service of a file-transfer stream: the host serves it itself from its <c>--files</c> folder. No other service may carry the name.</summary>
    public const string FilesService = "files";

    /// <summary>The built-in service of a system-information stream (read-only; the host answers it itself). No other service may carry the name.</summary>
    public const string SystemInfoService = "sysinfo";

    /// <summary>True for the names of the built-in services, which no <c>--service</c> may take.</summary>
    public static bool IsBuiltIn(string service) => service is FilesService or SystemInfoService;

    /// <summary>The service that carries the host's screen (RFB). Without <c>control</c> the host filters its input.</summary>
    public const string ScreenService = "screen";

    public static string Tunnel(string service) => TunnelPrefix + service;

    /// <summary>Service names: lower-case letters, digits, '-' and '_', 1–32 characters, starting with a letter or digit.</summary>
    public static bool IsValidServiceName(string? name) => name is not null && ServiceNamePattern().IsMatch(name);

    public static bool TryGetTunnel(string permission, out string service)
    {
        ArgumentNullException.ThrowIfNull(permission);
        service = permission.StartsWith(TunnelPrefix, StringComparison.Ordinal) ? permission[TunnelPrefix.Length..] : string.Empty;
        return IsValidServiceName(service) && !IsBuiltIn(service);
    }

    /// <summary>The permission a stream to <paramref name="service"/> needs: <c>files</c> for the file service, else <c>tunnel:NAME</c>.</summary>
    public static string ForStream(string service) =>
        service == FilesService ? Files : service == SystemInfoService ? SystemInfo : Tunnel(service);

    /// <summary>True for the permissions this protocol version knows.</summary>
    public static bool IsKnown(string permission) =>
        permission is View or Control or Files or SystemInfo or Chat or Scripts || TryGetTunnel(permission, out _);

    /// <summary>How a person reads a permission list: "view, control, tunnel screen".</summary>
    public static string Describe(IEnumerable<string> permissions) =>
        string.Join(", ", permissions.Select(p => TryGetTunnel(p, out var s) ? "tunnel " + s : p));

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,31}$", RegexOptions.CultureInvariant)]
    private static partial Regex ServiceNamePattern();
}
