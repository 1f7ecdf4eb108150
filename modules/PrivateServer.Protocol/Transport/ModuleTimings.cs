namespace PrivateServer.Protocol.Transport;

/// <summary>Timings both modules (and the load generator in the benchmarks) share.</summary>
public static class ModuleTimings
{
    /// <summary>
    /// WebSocket keep-alive of a host's control channel: none — the host and the server send each
    /// other heartbeats (the interval comes with the welcome) and each drops a peer silent for three.
    /// </summary>
    public static readonly TimeSpan HostKeepAlive = TimeSpan.Zero;

    /// <summary>WebSocket keep-alive of a supporter's session channel.</summary>
    public static readonly TimeSpan SupporterKeepAlive = TimeSpan.FromSeconds(20);
}
