using System.ComponentModel.DataAnnotations;

namespace PrivateServer.Server.Broker;

/// <summary>Settings of presence and sessions (section <c>Broker</c>).</summary>
public sealed class BrokerOptions
{
    public const string SectionName = "Broker";

    /// <summary>How often hosts send a heartbeat; a host silent for three intervals is dropped.</summary>
    [Range(2, 300)]
    public int HeartbeatSeconds { get; set; } = 25;

    /// <summary>How long a session request waits for the host's answer (the user may be away).</summary>
    [Range(5, 3600)]
    public int ConsentTimeoutSeconds { get; set; } = 180;

    /// <summary>Lifetime of a supporter's bearer token (CLI sign-in).</summary>
    [Range(60, 7 * 24 * 3600)]
    public int SupporterTokenSeconds { get; set; } = 8 * 3600;

    /// <summary>Relay streams one session may hold open at once (a forwarded web or RDP client opens several).</summary>
    [Range(1, 10_000)]
    public int MaxStreamsPerSession { get; set; } = 64;

    /// <summary>Relay streams one supporter may hold open at once, over all their sessions.</summary>
    [Range(1, 100_000)]
    public int MaxStreamsPerSupporter { get; set; } = 256;
}
