using LiteDB;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Broker;

namespace PrivateServer.Server.Storage;

/// <summary>Sessions in <c>sessions</c>, keyed by session id, indexed by request time.</summary>
internal sealed class LiteDbSessionLog : ISessionLog
{
    private readonly ApplianceDatabase _database;

    public LiteDbSessionLog(ApplianceDatabase database)
    {
        _database = database;
        Sessions.EnsureIndex(s => s.RequestedAt);
    }

    private ILiteCollection<SessionDocument> Sessions => Open(_database);

    private static ILiteCollection<SessionDocument> Open(ApplianceDatabase database) => database.Lite.GetCollection<SessionDocument>("sessions");

    public Task AddAsync(SessionRecord session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        cancellationToken.ThrowIfCancellationRequested();
        Write(_database, session);
        return Task.CompletedTask;
    }

    public Task EndAsync(string id, DateTimeOffset at, string by, string reason, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        End(_database, new SessionEnd(id, at, by, reason));
        return Task.CompletedTask;
    }

    public Task AddGrantAsync(string id, SessionGrant grant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grant);
        cancellationToken.ThrowIfCancellationRequested();
        AddGrant(_database, id, grant);
        return Task.CompletedTask;
    }

    /// <summary>Stores a session (inside the caller's transaction, if any).</summary>
    internal static void Write(ApplianceDatabase database, SessionRecord session) => Open(database).Upsert(SessionDocument.From(session));

    /// <summary>
    /// Records the end of a session (inside the caller's transaction, if any); false, with nothing written, when it has
    /// ended already. A session that was never recorded (refused before it was requested) has nothing to end: true.
    /// </summary>
    internal static bool End(ApplianceDatabase database, SessionEnd end)
    {
        var sessions = Open(database);
        var document = sessions.FindById(end.SessionId);
        if (document is null)
        {
            return true;
        }

        if (document.EndedAt is not null)
        {
            return false;
        }

        (document.EndedAt, document.EndedBy, document.EndReason) = (end.At.UtcDateTime, end.By, end.Reason);
        sessions.Update(document);
        return true;
    }

    /// <summary>Records rights granted in a running session (inside the caller's transaction, if any); false when it is unknown or has ended.</summary>
    internal static bool AddGrant(ApplianceDatabase database, string id, SessionGrant grant)
    {
        var sessions = Open(database);
        var document = sessions.FindById(id);
        if (document is not { EndedAt: null })
        {
            return false;
        }

        document.LaterGrants.Add(new GrantDocument { Permissions = [.. grant.Permissions], At = grant.At.UtcDateTime, Kind = grant.Kind });
        sessions.Update(document);
        return true;
    }

    public Task<SessionRecord?> FindAsync(string id, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Sessions.FindById(id)?.ToRecord());
    }

    public Task<IReadOnlyList<SessionRecord>> ListUnendedAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var until = before.UtcDateTime;
        IReadOnlyList<SessionRecord> sessions = Sessions.Query()
            .Where(s => s.EndedAt == null && s.RequestedAt < until)
            .OrderBy(s => s.RequestedAt)
            .ToEnumerable()
            .Select(s => s.ToRecord())
            .ToList();
        return Task.FromResult(sessions);
    }

    public Task<IReadOnlyList<SessionRecord>> ListAsync(DateTimeOffset since, DateTimeOffset until, int limit, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var (start, end) = (since.UtcDateTime, until.UtcDateTime);
        IReadOnlyList<SessionRecord> sessions = Sessions.Query()
            .Where(s => s.RequestedAt >= start && s.RequestedAt < end)
            .OrderByDescending(s => s.RequestedAt)
            .Limit(limit)
            .ToEnumerable()
            .Select(s => s.ToRecord())
            .ToList();
        return Task.FromResult(sessions);
    }

    internal sealed class SessionDocument
    {
        [BsonId]
        public string Id { get; set; } = string.Empty;

        public string Supporter { get; set; } = string.Empty;

        public string HostId { get; set; } = string.Empty;

        public string HostName { get; set; } = string.Empty;

        public string Via { get; set; } = string.Empty;

        public List<string> Requested { get; set; } = [];

        public DateTime RequestedAt { get; set; }

        public DateTime? EndedAt { get; set; }

        public string? EndedBy { get; set; }

        public string? EndReason { get; set; }

        public List<GrantDocument> LaterGrants { get; set; } = [];

        public static SessionDocument From(SessionRecord session) => new()
        {
            Id = session.Id,
            Supporter = session.Supporter,
            HostId = session.HostId,
            HostName = session.HostName,
            Via = session.Via,
            Requested = session.Requested.ToList(),
            RequestedAt = session.RequestedAt.UtcDateTime,
            EndedAt = session.EndedAt?.UtcDateTime,
            EndedBy = session.EndedBy,
            EndReason = session.EndReason,
        };

        public SessionRecord ToRecord() => new(
            Id, Supporter, HostId, HostName, Via, Requested, StorageMapper.Utc(RequestedAt), EndedAt is { } ended ? StorageMapper.Utc(ended) : null, EndedBy, EndReason)
        {
            LaterGrants = LaterGrants.Select(g => new SessionGrant(g.Permissions, StorageMapper.Utc(g.At), g.Kind)).ToList(),
        };
    }

    internal sealed class GrantDocument
    {
        public List<string> Permissions { get; set; } = [];

        public DateTime At { get; set; }

        public ConsentKind Kind { get; set; }
    }
}
