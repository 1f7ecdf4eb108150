namespace PrivateServer.Server.Audit;

/// <summary>
/// What happened, as the code that saw it reports it: when, who (user, host or "system"), what
/// (an action name such as <c>login.failed</c> or <c>session.granted</c>), on what, in which
/// session, from which address, and details as name/value pairs.
/// </summary>
public sealed record AuditEntry(
    DateTimeOffset At,
    string Actor,
    string Action,
    string? Target = null,
    string? SessionId = null,
    string? Source = null,
    IReadOnlyDictionary<string, string>? Details = null);

/// <summary>
/// One event of the audit trail: the entry, its place in the trail (<see cref="Sequence"/>, from 1),
/// the hash of the event before it and its own hash (<see cref="AuditChain"/>).
/// </summary>
public sealed record AuditEvent(long Sequence, AuditEntry Entry, string PreviousHash, string Hash);

/// <summary>
/// The trail's head (last sequence number and hash) as signed at <see cref="At"/> with the audit key:
/// a detached CMS signature over <see cref="AuditSeal.SignedText"/>. A trail shorter than a signed
/// head lost events at its end.
/// </summary>
public sealed record SignedHead(long Sequence, string Hash, DateTimeOffset At, byte[] Signature);
