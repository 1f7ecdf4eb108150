using System.Text.Json.Serialization;

namespace PrivateServer.Protocol.Control;

/// <summary>
/// One JSON text message on a control channel (host ↔ server, supporter ↔ server). The
/// <c>type</c> field names the message, <c>version</c> the protocol version (<see cref="ProtocolInfo.Version"/>).
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type", UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization)]
[JsonDerivedType(typeof(HostHello), "hello")]
[JsonDerivedType(typeof(Welcome), "welcome")]
[JsonDerivedType(typeof(Heartbeat), "heartbeat")]
[JsonDerivedType(typeof(SessionRequest), "session.request")]
[JsonDerivedType(typeof(SessionAnswer), "session.answer")]
[JsonDerivedType(typeof(SessionStop), "session.stop")]
[JsonDerivedType(typeof(SessionEnded), "session.ended")]
[JsonDerivedType(typeof(StreamOpen), "stream.open")]
[JsonDerivedType(typeof(StreamFailed), "stream.failed")]
[JsonDerivedType(typeof(ConnectRequest), "session.connect")]
[JsonDerivedType(typeof(SessionWaiting), "session.waiting")]
[JsonDerivedType(typeof(SessionGranted), "session.granted")]
[JsonDerivedType(typeof(SessionRefused), "session.refused")]
[JsonDerivedType(typeof(StreamRequest), "stream.request")]
[JsonDerivedType(typeof(StreamReady), "stream.ready")]
[JsonDerivedType(typeof(StreamRefused), "stream.refused")]
[JsonDerivedType(typeof(ChannelError), "error")]
public abstract record ControlMessage
{
    public int Version { get; init; } = ProtocolInfo.Version;
}

// Host → server

/// <summary>First message of a host: what it is and which services it offers (names only, never the targets).</summary>
public sealed record HostHello(string Name, string Os, string ModuleVersion, IReadOnlyList<string> Services) : ControlMessage;

/// <summary>The host's answer to a <see cref="SessionRequest"/>: the permissions it grants (empty when refused).</summary>
public sealed record SessionAnswer(string SessionId, bool Accepted, IReadOnlyList<string> Granted, string? Reason) : ControlMessage;

/// <summary>Emergency stop: the host ends one session, or all of them when <see cref="SessionId"/> is null.</summary>
public sealed record SessionStop(string? SessionId, string Reason) : ControlMessage;

/// <summary>The host could not open its half of a stream (target unreachable, permission missing).</summary>
public sealed record StreamFailed(string StreamId, string Reason) : ControlMessage;

// Server → host

/// <summary>The server accepted the host's channel.</summary>
public sealed record Welcome(string HostId, string Name, int HeartbeatSeconds) : ControlMessage;

/// <summary>A supporter asks for a session; <see cref="Consent"/> is the group's policy: ask or auto.</summary>
public sealed record SessionRequest(
    string SessionId, string Supporter, string SupporterDisplayName, IReadOnlyList<string> Permissions, string Consent) : ControlMessage;

/// <summary>Open the host's half of a relay stream to a service, with a one-time ticket.</summary>
public sealed record StreamOpen(string SessionId, string StreamId, string Service, string Ticket) : ControlMessage;

// Both ways

/// <summary>Keeps a channel alive and tells the server the host is still there.</summary>
public sealed record Heartbeat : ControlMessage;

/// <summary>A session ended (to the host and to the supporter), with the reason people read.</summary>
public sealed record SessionEnded(string SessionId, string Reason) : ControlMessage;

/// <summary>The server closes a channel because of the given problem.</summary>
public sealed record ChannelError(string Message) : ControlMessage;

// Supporter → server

/// <summary>A supporter asks for a session on a host (name or id) with the given permissions.</summary>
public sealed record ConnectRequest(string Host, IReadOnlyList<string> Permissions) : ControlMessage;

/// <summary>A supporter asks for a new stream to one of the session's services.</summary>
public sealed record StreamRequest(string RequestId, string Service) : ControlMessage;

// Server → supporter

/// <summary>The host's user is being asked for consent.</summary>
public sealed record SessionWaiting(string SessionId, string Host) : ControlMessage;

/// <summary>The host granted the session with these permissions.</summary>
public sealed record SessionGranted(string SessionId, string HostId, string HostName, IReadOnlyList<string> Permissions) : ControlMessage;

/// <summary>The session was not granted (refused, offline host, no right to it).</summary>
public sealed record SessionRefused(string Reason) : ControlMessage;

/// <summary>The supporter's half of a stream may be opened with this ticket.</summary>
public sealed record StreamReady(string RequestId, string StreamId, string Ticket) : ControlMessage;

/// <summary>A stream request was refused.</summary>
public sealed record StreamRefused(string RequestId, string Reason) : ControlMessage;
