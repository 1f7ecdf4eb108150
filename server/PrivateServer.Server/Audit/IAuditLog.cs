namespace PrivateServer.Server.Audit;

/// <summary>The append-only audit trail's storage: appends chain each entry to the last event.</summary>
public interface IAuditLog
{
    /// <summary>Chains and stores an entry; returns the event as stored.</summary>
    Task<AuditEvent> AppendAsync(AuditEntry entry, CancellationToken cancellationToken);

    /// <summary>
    /// Chains an entry at once and stores it with the next group of such entries, a few milliseconds later: for events
    /// that come often and record no change of their own (a stream opened). Reads and other writes store the group
    /// first; a group that cannot be stored makes this throw until it is.
    /// </summary>
    Task<AuditEvent> AppendDeferredAsync(AuditEntry entry, CancellationToken cancellationToken);

    /// <summary>Every event in sequence order, read in pages.</summary>
    IAsyncEnumerable<AuditEvent> ReadAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Events in [since, until) and/or of one session, newest first when <paramref name="newestFirst"/>,
    /// at most <paramref name="limit"/>.
    /// </summary>
    Task<IReadOnlyList<AuditEvent>> QueryAsync(
        DateTimeOffset? since, DateTimeOffset? until, string? sessionId, bool newestFirst, int limit, CancellationToken cancellationToken);

    /// <summary>One event by its sequence number; null when there is none.</summary>
    Task<AuditEvent?> FindAsync(long sequence, CancellationToken cancellationToken);

    /// <summary>The last event; null for an empty trail.</summary>
    Task<AuditEvent?> LastAsync(CancellationToken cancellationToken);

    Task AddSignedHeadAsync(SignedHead head, CancellationToken cancellationToken);

    /// <summary>The most recently signed head; null when none was signed yet.</summary>
    Task<SignedHead?> LatestSignedHeadAsync(CancellationToken cancellationToken);
}
