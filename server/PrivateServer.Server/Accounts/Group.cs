namespace PrivateServer.Server.Accounts;

/// <summary>
/// A group of supporters and hosts sharing one policy: whether unattended hosts ask for consent,
/// which session features its hosts allow (<see cref="GroupFeatures"/>), and whether sessions are
/// recorded.
/// </summary>
public sealed record Group(string Name, UnattendedConsent UnattendedConsent, DateTimeOffset CreatedAt)
{
    /// <summary>The features a session on this group's hosts may use; all but recording by default.</summary>
    public IReadOnlyList<string> Features { get; init; } = GroupFeatures.Default;

    /// <summary>Whether the screen streams of sessions on this group's hosts are recorded on the server (Recording/ScreenRecordings).</summary>
    public bool Recording { get; init; }

    /// <summary>Whether the group's members must sign in with a second factor (TOTP), whatever their role.</summary>
    public bool RequireTwoFactor { get; init; }

    /// <summary>The networks (CIDR) the group's members may sign in from; empty: anywhere (Auth/NetworkRules).</summary>
    public IReadOnlyList<string> SignInFrom { get; init; } = [];

    /// <summary>The networks (CIDR) the group's hosts may connect from; empty: anywhere.</summary>
    public IReadOnlyList<string> HostsFrom { get; init; } = [];

    /// <summary>The largest file a session on this group's hosts may send or fetch (the host enforces it).</summary>
    public long MaxFileSize { get; init; } = GroupFeatures.DefaultMaxFileSize;
}

/// <summary>The session features a group policy allows or forbids, and which session permission needs which.</summary>
public static class GroupFeatures
{
    public const string View = "view";
    public const string Control = "control";
    public const string Tunnels = "tunnels";
    public const string Files = "files";
    public const string Chat = "chat";
    public const string SystemInfo = "sysinfo";
    public const string Scripts = "scripts";

    public static readonly IReadOnlyList<string> All = [View, Control, Tunnels, Files, Chat, SystemInfo, Scripts];

    public static readonly IReadOnlyList<string> Default = All;

    /// <summary>1 GiB: what a group allows per file unless its policy says otherwise (also for ad-hoc customers).</summary>
    public const long DefaultMaxFileSize = Protocol.Files.FileTransferProtocol.DefaultMaxFileSize;

    /// <summary>The range a policy may set: 1 MiB to 1 TiB.</summary>
    public const long SmallestMaxFileSize = 1L << 20;

    public const long LargestMaxFileSize = 1L << 40;

    /// <summary>The feature a session permission needs: the screen belongs to viewing, other services to tunnels.</summary>
    public static string For(string permission) =>
        Protocol.Sessions.SessionPermissions.TryGetTunnel(permission, out var service)
            ? service == Protocol.Sessions.SessionPermissions.ScreenService ? View : Tunnels
            : permission;
}
