using System.Text.Json.Serialization;
using PrivateServer.Protocol.Sessions;

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
[JsonDerivedType(typeof(AdHocJoin), "adhoc.join")]
[JsonDerivedType(typeof(AdHocWelcome), "adhoc.welcome")]
[JsonDerivedType(typeof(AwaitingCustomer), "session.awaiting-customer")]
[JsonDerivedType(typeof(RightsRequest), "session.ask-rights")]
[JsonDerivedType(typeof(SessionRightsRequest), "session.rights")]
[JsonDerivedType(typeof(SessionRightsAnswer), "session.rights.answer")]
[JsonDerivedType(typeof(RightsGranted), "session.rights.granted")]
[JsonDerivedType(typeof(RightsRefused), "session.rights.refused")]
[JsonDerivedType(typeof(FileTransferred), "file.transferred")]
[JsonDerivedType(typeof(ChatMessage), "chat.message")]
[JsonDerivedType(typeof(ScriptRunRequest), "script.run")]
[JsonDerivedType(typeof(ScriptRun), "script.start")]
[JsonDerivedType(typeof(ScriptResult), "script.result")]
[JsonDerivedType(typeof(ScriptFinished), "script.finished")]
public abstract record ControlMessage
{
    public int Version { get; init; } = ProtocolInfo.Version;
}

// Host → server

/// <summary>First message of a host: what it is and which services it offers (names only, never the targets).</summary>
public sealed record HostHello(string Name, string Os, string ModuleVersion, IReadOnlyList<string> Services) : ControlMessage;

/// <summary>
/// The host's answer to a <see cref="SessionRequest"/>: the permissions it grants (empty when refused) and,
/// when terms were shown, the SHA-256 of the text its user accepted (<see cref="SupportTerms.Sha256"/>).
/// </summary>
public sealed record SessionAnswer(string SessionId, bool Accepted, IReadOnlyList<string> Granted, string? Reason, string? TermsSha256 = null) : ControlMessage;

/// <summary>
/// The host's answer to a <see cref="SessionRightsRequest"/>: the further permissions it grants (empty when refused).
/// </summary>
public sealed record SessionRightsAnswer(string AskId, bool Accepted, IReadOnlyList<string> Granted, string? Reason) : ControlMessage;

/// <summary>Emergency stop: the host ends one session, or all of them when <see cref="SessionId"/> is null.</summary>
public sealed record SessionStop(string? SessionId, string Reason) : ControlMessage;

/// <summary>
/// The host moved a file through its shared folder in a session: <see cref="Direction"/> is
/// <c>to-host</c> (the supporter sent it) or <c>from-host</c> (fetched); the path is relative to the
/// folder; the SHA-256 is of the whole file, checked end to end. The server puts it in the audit trail.
/// </summary>
public sealed record FileTransferred(string SessionId, string Direction, string Path, long Size, string Sha256) : ControlMessage
{
    public const string ToHost = "to-host";
    public const string FromHost = "from-host";
}

/// <summary>
/// One line of chat in a session granted <c>chat</c>, either way. A module sends it with only
/// <see cref="Text"/> (and, from a host, <see cref="SessionId"/>); the server records it in the
/// session's protocol and passes it on with <see cref="From"/> and <see cref="At"/> filled in.
/// </summary>
public sealed record ChatMessage(string? SessionId, string? From, string Text, DateTimeOffset? At = null) : ControlMessage
{
    public const int MaximumLength = 2000;

    /// <summary>One line, no control characters, at most <see cref="MaximumLength"/> characters; null when nothing is left.</summary>
    public static string? Clean(string? text)
    {
        var cleaned = new string([.. (text ?? string.Empty).Select(c => char.IsControl(c) ? ' ' : c)]).Trim();
        return cleaned.Length == 0 ? null : cleaned.Length > MaximumLength ? cleaned[..MaximumLength] : cleaned;
    }
}

/// <summary>A supporter asks to run the library script <see cref="Script"/> on the session's host (never script text).</summary>
public sealed record ScriptRunRequest(string RequestId, string Script) : ControlMessage;

/// <summary>
/// The server asks the host to run a library script: its name and text (the host's user is shown
/// both), the shell, whether the group's policy lets it run without asking (<c>auto</c>), the time limit.
/// </summary>
public sealed record ScriptRun(string SessionId, string RunId, string Name, string Shell, string Body, string Consent, int TimeoutSeconds) : ControlMessage;

/// <summary>
/// What became of a <see cref="ScriptRun"/>: refused (with the reason) or run, with its exit code (none when
/// the time limit stopped it) and the first <see cref="MaximumOutputLength"/> characters of each output.
/// </summary>
public sealed record ScriptResult(
    string SessionId, string RunId, bool Ran, int? ExitCode, string? Stdout, string? Stderr, bool TimedOut, bool Truncated, string? Refusal) : ControlMessage
{
    /// <summary>Characters kept of each of stdout and stderr (a control message is at most 64 KiB).</summary>
    public const int MaximumOutputLength = 4000;
}

/// <summary>The server tells the supporter what became of a <see cref="ScriptRunRequest"/>.</summary>
public sealed record ScriptFinished(
    string RequestId, string Script, bool Ran, int? ExitCode, string? Stdout, string? Stderr, bool TimedOut, bool Truncated, string? Refusal) : ControlMessage;

/// <summary>The host could not open its half of a stream (target unreachable, permission missing).</summary>
public sealed record StreamFailed(string StreamId, string Reason) : ControlMessage;

// Ad-hoc host (nothing installed, no certificate) → server

/// <summary>
/// First message of an ad-hoc host: either the session <see cref="Code"/> a supporter gave its user, or a
/// <see cref="Request"/> text for the waiting queue of <see cref="Group"/> (all supporters when null).
/// </summary>
public sealed record AdHocJoin(
    string? Code, string? Request, string? Group, string Name, string Os, string ModuleVersion, IReadOnlyList<string> Services) : ControlMessage;

// Server → host

/// <summary>The server accepted the host's channel.</summary>
public sealed record Welcome(string HostId, string Name, int HeartbeatSeconds) : ControlMessage;

/// <summary>
/// A supporter asks for a session; <see cref="Consent"/> is the group's policy: ask or auto (an ad-hoc
/// host is always asked). <see cref="Terms"/> are the support terms the user must accept, one per language.
/// <see cref="MaxFileSize"/> is the group's limit per transferred file (the host enforces it).
/// </summary>
public sealed record SessionRequest(
    string SessionId, string Supporter, string SupporterDisplayName, IReadOnlyList<string> Permissions, string Consent,
    IReadOnlyList<SupportTerms>? Terms = null, long? MaxFileSize = null) : ControlMessage;

/// <summary>
/// The supporter of a running session asks for further permissions (typically <c>control</c> after a
/// view-only start); <see cref="Consent"/> as in <see cref="SessionRequest"/>. Streams opened after a
/// grant carry the new rights; streams already open keep theirs.
/// </summary>
public sealed record SessionRightsRequest(
    string SessionId, string AskId, string Supporter, string SupporterDisplayName, IReadOnlyList<string> Permissions, string Consent) : ControlMessage;

/// <summary>
/// The server accepted an ad-hoc host for one session: its id for that session, the key its relay halves
/// present instead of a certificate, the supporter who made the code (null for a queued request), the
/// request's id in the queue (null for a code), and until when it waits for a supporter.
/// </summary>
public sealed record AdHocWelcome(
    string HostId, string RelayKey, int HeartbeatSeconds, string? Supporter, string? RequestId, DateTimeOffset WaitsUntil) : ControlMessage;

/// <summary>Open the host's half of a relay stream to a service, with a one-time ticket.</summary>
public sealed record StreamOpen(string SessionId, string StreamId, string Service, string Ticket) : ControlMessage;

// Both ways

/// <summary>
/// Keeps a channel alive: the host sends one every interval (the welcome names it) and the server
/// answers every second one; each side gives up on a peer silent for three intervals.
/// </summary>
public sealed record Heartbeat : ControlMessage;

/// <summary>A session ended (to the host and to the supporter), with the reason people read.</summary>
public sealed record SessionEnded(string SessionId, string Reason) : ControlMessage;

/// <summary>The server closes a channel because of the given problem.</summary>
public sealed record ChannelError(string Message) : ControlMessage;

// Supporter → server

/// <summary>
/// A supporter asks for a session with the given permissions: on an enrolled <see cref="Host"/> (name or id),
/// on the customer who joins with the supporter's session <see cref="Code"/>, or on a queued <see cref="Request"/>.
/// <see cref="Optional"/> permissions are asked for only where the host's group policy allows them (the browser
/// viewer asks for <c>chat</c> so), instead of refusing the session.
/// <see cref="Session"/> names a running session of the same supporter instead: a second channel into it, for chat only
/// (<c>privateserver-supporter chat SESSION</c> beside a running <c>connect</c> or browser viewer); leaving it does not end the session.
/// </summary>
public sealed record ConnectRequest(
    string? Host,
    IReadOnlyList<string> Permissions,
    string? Code = null,
    string? Request = null,
    IReadOnlyList<string>? Optional = null,
    string? Session = null) : ControlMessage;

/// <summary>A supporter asks for a new stream to one of the session's services.</summary>
public sealed record StreamRequest(string RequestId, string Service) : ControlMessage;

/// <summary>In a running session, the supporter asks the host for further permissions (e.g. control after viewing).</summary>
public sealed record RightsRequest(string RequestId, IReadOnlyList<string> Permissions) : ControlMessage;

// Server → supporter

/// <summary>The session code is valid; the server waits until a customer joins with it (at most until <see cref="ExpiresAt"/>).</summary>
public sealed record AwaitingCustomer(DateTimeOffset ExpiresAt) : ControlMessage;

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

/// <summary>The host granted further permissions; <see cref="Permissions"/> are all the session has now.</summary>
public sealed record RightsGranted(string RequestId, IReadOnlyList<string> Permissions) : ControlMessage;

/// <summary>A request for further permissions was refused; the session goes on with what it had.</summary>
public sealed record RightsRefused(string RequestId, string Reason) : ControlMessage;
