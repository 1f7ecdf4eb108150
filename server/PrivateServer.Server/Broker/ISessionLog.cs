namespace PrivateServer.Server.Broker;

/// <summary>
/// One session as the auditors see it: who asked for which host with which rights and when, and
/// how it ended — by whom and why (a refusal ends a session that never started). What the host
/// granted and how it consented is in the <see cref="ConsentRecord"/> of the same id.
/// </summary>
public sealed record SessionRecord(
    string Id,
    string Supporter,
    string HostId,
    string HostName,
    string Via,
    IReadOnlyList<string> Requested,
    DateTimeOffset RequestedAt,
    DateTimeOffset? EndedAt = null,
    string? EndedBy = null,
    string? EndReason = null)
{
    /// <summary>Rights the host granted later in the running session, in order.</summary>
    public IReadOnlyList<SessionGrant> LaterGrants { get; init; } = [];
}

/// <summary>Rights granted while a session ran: which, when, and whether the user was asked or the group's policy allowed them.</summary>
public sealed record SessionGrant(IReadOnlyList<string> Permissions, DateTimeOffset At, ConsentKind Kind);

/// <summary>Where sessions are kept (LiteDB now; the hash-chained audit trail builds on it).</summary>
public interface ISessionLog
{
    Task AddAsync(SessionRecord session, CancellationToken cancellationToken);

    /// <summary>Records the end of a session once; later calls leave the first end as it is.</summary>
    Task EndAsync(string id, DateTimeOffset at, string by, string reason, CancellationToken cancellationToken);

    /// <summary>Records rights granted later in a running session.</summary>
    Task AddGrantAsync(string id, SessionGrant grant, CancellationToken cancellationToken);

    Task<SessionRecord?> FindAsync(string id, CancellationToken cancellationToken);

    /// <summary>Sessions requested before <paramref name="before"/> that have no end, oldest first.</summary>
    Task<IReadOnlyList<SessionRecord>> ListUnendedAsync(DateTimeOffset before, CancellationToken cancellationToken);

    /// <summary>Sessions requested in [since, until), newest first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<SessionRecord>> ListAsync(DateTimeOffset since, DateTimeOffset until, int limit, CancellationToken cancellationToken);
}
