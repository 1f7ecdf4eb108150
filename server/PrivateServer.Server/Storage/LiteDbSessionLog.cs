using LiteDB;
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

    private ILiteCollection<SessionDocument> Sessions => _database.Lite.GetCollection<SessionDocument>("sessions");

    public Task AddAsync(SessionRecord session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        cancellationToken.ThrowIfCancellationRequested();
        Sessions.Upsert(SessionDocument.From(session));
        return Task.CompletedTask;
    }

    public Task EndAsync(string id, DateTimeOffset at, string by, string reason, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var document = Sessions.FindById(id);
        if (document is { EndedAt: null })
        {
            (document.EndedAt, document.EndedBy, document.EndReason) = (at.UtcDateTime, by, reason);
            Sessions.Update(document);
        }

        return Task.CompletedTask;
    }

    public Task AddGrantAsync(string id, SessionGrant grant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grant);
        cancellationToken.ThrowIfCancellationRequested();
        var document = Sessions.FindById(id);
        if (document is not null)
        {
            document.LaterGrants.Add(new GrantDocument { Permissions = [.. grant.Permissions], At = grant.At.UtcDateTime, Kind = grant.Kind });
            Sessions.Update(document);
        }

        return Task.CompletedTask;
    }

    public Task<SessionRecord?> FindAsync(string id, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Sessions.FindById(id)?.ToRecord());
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
