using PrivateServer.Server.Accounts;
using PrivateServer.Server.Mail;

namespace PrivateServer.Server.Audit;

/// <summary>
/// Writes that happen together or not at all, with the audit events that record them: a user and the event that says
/// it was added, a set-password link, the mail that carries it and the event that says so are one database transaction,
/// so a crash or an error between them leaves neither a change without its record nor a record of a change that never
/// happened (nor a mail without its cause).
/// </summary>
public sealed class AtomicChange
{
    /// <summary>Users to add; a name that exists (in any case) fails the whole change with <see cref="AtomicConflictException"/>.</summary>
    public List<User> NewUsers { get; } = [];

    /// <summary>
    /// Changes to stored users, applied to the user as stored at the moment of writing (never to an older copy), so
    /// two changes at once (an admin disabling the account while its owner changes the password) both hold.
    /// </summary>
    public List<UserEdit> UserEdits { get; } = [];

    /// <summary>Second factors to store, or (null) to remove, by user name.</summary>
    public List<TwoFactorChange> TwoFactors { get; } = [];

    /// <summary>Groups to add; a name that exists fails the whole change with <see cref="AtomicConflictException"/>.</summary>
    public List<Group> NewGroups { get; } = [];

    /// <summary>Stored groups to replace (by name).</summary>
    public List<Group> ChangedGroups { get; } = [];

    /// <summary>Enrolment tokens to add.</summary>
    public List<Hosts.EnrollmentToken> NewEnrollmentTokens { get; } = [];

    /// <summary>Enrolment tokens to delete, by hash; one that is gone fails the whole change with <see cref="AtomicConflictException"/>.</summary>
    public List<string> DeletedEnrollmentTokens { get; } = [];

    /// <summary>
    /// Hosts enrolled with a token: the host is added and the token's use counted. A token that is gone, has no use left
    /// or has expired at the enrolment's time (another host was quicker) fails the whole change with
    /// <see cref="AtomicConflictException"/>.
    /// </summary>
    public List<HostEnrolment> Enrolments { get; } = [];

    /// <summary>Changes to stored hosts, applied to the host as stored at the moment of writing.</summary>
    public List<HostEdit> HostEdits { get; } = [];

    /// <summary>The admin center's appliance settings to store, if they change.</summary>
    public PrivateServer.Server.Settings.StoredSettings? ApplianceSettings { get; set; }

    /// <summary>The mail page's settings to store (or to remove: <see cref="MailPageSettings.Settings"/> null), if they change.</summary>
    public MailPageSettings? MailSettings { get; set; }

    /// <summary>Scripts to add to the library; a name that exists fails the whole change with <see cref="AtomicConflictException"/>.</summary>
    public List<Scripts.Script> NewScripts { get; } = [];

    /// <summary>Scripts to remove, by name; one that is gone fails the whole change with <see cref="AtomicConflictException"/>.</summary>
    public List<string> RemovedScripts { get; } = [];

    /// <summary>Set-password links to add (older unused links of the same user and purpose stop working, as <see cref="IPasswordLinkStore.AddAsync"/>).</summary>
    public List<PasswordLink> PasswordLinks { get; } = [];

    /// <summary>
    /// Users whose supporter-module tokens are all revoked; each one's event is made from how many there were
    /// (appended after <see cref="Audit"/>, in the same transaction).
    /// </summary>
    public List<TokenRevocation> TokenRevocations { get; } = [];

    /// <summary>Session codes to add; a live code with the same hash fails the whole change with <see cref="AtomicConflictException"/> (draw another).</summary>
    public List<AdHoc.SessionCodeRecord> NewSessionCodes { get; } = [];

    /// <summary>Session codes redeemed; a code that is not live at the use's time (used or expired meanwhile) fails the whole change.</summary>
    public List<SessionCodeUse> SessionCodeUses { get; } = [];

    /// <summary>Sessions requested (the session log's record of who asked for which host with which rights).</summary>
    public List<Broker.SessionRecord> NewSessions { get; } = [];

    /// <summary>A host's answers to session requests (granted or refused; keyed by session id).</summary>
    public List<Broker.ConsentRecord> NewConsents { get; } = [];

    /// <summary>Rights granted later in running sessions; one that has ended (or is unknown) fails the whole change with <see cref="AtomicConflictException"/>.</summary>
    public List<SessionGrantAdded> SessionGrants { get; } = [];

    /// <summary>Ends of sessions; a session ends once (one that has ended fails the whole change with <see cref="AtomicConflictException"/>).</summary>
    public List<SessionEnd> SessionEnds { get; } = [];

    /// <summary>
    /// Mails to put in the outbox. A mail with a <see cref="OutboxMail.Key"/> that is in the outbox already is left out
    /// (a protocol queued once stays queued once).
    /// </summary>
    public List<OutboxMail> Mails { get; } = [];

    /// <summary>
    /// Mails composed from the change's audit events as stored (with their sequence numbers), e.g. a session protocol
    /// quoting the event that ends the session; called inside the transaction, so it must only compute (no waiting,
    /// no database access). Its mails are written like <see cref="Mails"/>.
    /// </summary>
    public Func<IReadOnlyList<AuditEvent>, IReadOnlyList<OutboxMail>>? MailsFromEvents { get; set; }

    /// <summary>The audit entries that record the change, appended in this order.</summary>
    public List<AuditEntry> Audit { get; } = [];
}

/// <summary>A change to one stored user (its second factor excepted): <paramref name="Edit"/> gets the user as stored and returns it changed.</summary>
public sealed record UserEdit(string User, Func<User, User> Edit);

/// <summary>A host enrolled at <paramref name="At"/> with the enrolment token whose hash is <paramref name="TokenHash"/>.</summary>
public sealed record HostEnrolment(string TokenHash, Hosts.HostRecord Host, DateTimeOffset At);

/// <summary>A change to one stored host: <paramref name="Edit"/> gets the host as stored and returns it changed.</summary>
public sealed record HostEdit(string Host, Func<Hosts.HostRecord, Hosts.HostRecord> Edit);

/// <summary>Every token of <paramref name="User"/> is revoked; <paramref name="Record"/> makes the event from how many there were.</summary>
public sealed record TokenRevocation(string User, Func<int, AuditEntry> Record);

/// <summary>A customer redeemed the session code <paramref name="CodeId"/> at <paramref name="At"/> from <paramref name="Source"/>.</summary>
public sealed record SessionCodeUse(string CodeId, DateTimeOffset At, string Source);

/// <summary>Rights granted in the running session <paramref name="SessionId"/>.</summary>
public sealed record SessionGrantAdded(string SessionId, Broker.SessionGrant Grant);

/// <summary>How a session ended: when, by whom (supporter, host, server, refused, …) and why.</summary>
public sealed record SessionEnd(string SessionId, DateTimeOffset At, string By, string Reason);

/// <summary>The mail page's new settings, or null to go back to the configuration file's.</summary>
public sealed record MailPageSettings(StoredMailSettings? Settings);

/// <summary>A user's new second factor, or null to remove it.</summary>
public sealed record TwoFactorChange(string User, TwoFactorEnrolment? Enrolment);

/// <summary>Stores an <see cref="AtomicChange"/> in one transaction (the audit log's storage, which chains the events).</summary>
public interface IAtomicWriter
{
    /// <summary>Writes everything or nothing; returns the audit events as stored.</summary>
    Task<IReadOnlyList<AuditEvent>> WriteAsync(AtomicChange change, CancellationToken cancellationToken);
}

/// <summary>An <see cref="AtomicChange"/> would have added something that exists already; nothing of it was written.</summary>
public sealed class AtomicConflictException : Exception
{
    public AtomicConflictException()
    {
    }

    public AtomicConflictException(string message)
        : base(message)
    {
    }

    public AtomicConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
