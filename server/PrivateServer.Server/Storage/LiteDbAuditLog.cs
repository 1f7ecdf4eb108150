using System.Runtime.CompilerServices;
using LiteDB;
using PrivateServer.Server.Audit;

namespace PrivateServer.Server.Storage;

/// <summary>
/// The audit trail in <c>audit</c>, keyed by sequence number. Appends are serialised and chained to
/// the last event (kept in memory after the first read; one process owns the database). Times are
/// kept as UTC ticks: BSON dates hold milliseconds only, and the hash covers the full time.
/// </summary>
internal sealed class LiteDbAuditLog : IAuditLog, IAtomicWriter, IDisposable
{
    private const int PageSize = 1000;

    private readonly ApplianceDatabase _database;
    private AuditEvent? _last;
    private bool _lastKnown;

    public LiteDbAuditLog(ApplianceDatabase database)
    {
        _database = database;
        Events.EnsureIndex(e => e.AtTicks);
        Events.EnsureIndex(e => e.SessionId);
        // A rolled-back transaction may have moved the head in memory: read it again from what was committed.
        _database.RolledBack += ForgetHead;
    }

    private ILiteCollection<AuditDocument> Events => _database.Lite.GetCollection<AuditDocument>("audit");

    public Task<AuditEvent> AppendAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return _database.UnderWriteGateAsync(() => Append(entry), cancellationToken);
    }

    /// <summary>Users, groups, hosts, enrolment tokens, settings, sessions, links, mails and the events recording them in one transaction; on any failure nothing is stored and the head is read again.</summary>
    public Task<IReadOnlyList<AuditEvent>> WriteAsync(AtomicChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        return _database.UnderWriteGateAsync(() => _database.InTransaction<IReadOnlyList<AuditEvent>>(() =>
        {
            // Events first: a failure in any later write rolls them back too, and the head is read again.
            var appended = change.Audit.Select(Append).ToList();
            foreach (var revocation in change.TokenRevocations)
            {
                appended.Add(Append(revocation.Record(LiteDbApiTokenStore.RemoveForUser(_database, revocation.User))));
            }

            foreach (var user in change.NewUsers)
            {
                Require(LiteDbUserStore.TryInsert(_database, user), $"user '{user.Name}' already exists");
            }

            foreach (var edit in change.UserEdits)
            {
                LiteDbUserStore.Edit(_database, edit.User, edit.Edit);
            }

            foreach (var twoFactor in change.TwoFactors)
            {
                LiteDbUserStore.SetTwoFactor(_database, twoFactor.User, twoFactor.Enrolment);
            }

            foreach (var group in change.NewGroups)
            {
                Require(LiteDbGroupStore.TryInsert(_database, group), $"group '{group.Name}' already exists");
            }

            foreach (var group in change.ChangedGroups)
            {
                LiteDbGroupStore.Replace(_database, group);
            }

            foreach (var token in change.NewEnrollmentTokens)
            {
                LiteDbHostStore.AddToken(_database, token);
            }

            foreach (var hash in change.DeletedEnrollmentTokens)
            {
                Require(LiteDbHostStore.DeleteToken(_database, hash), "the enrolment token is gone");
            }

            foreach (var enrolment in change.Enrolments)
            {
                Require(LiteDbHostStore.Enrol(_database, enrolment), "the enrolment token was used, deleted or expired meanwhile");
            }

            foreach (var edit in change.HostEdits)
            {
                LiteDbHostStore.Edit(_database, edit.Host, edit.Edit);
            }

            foreach (var script in change.NewScripts)
            {
                Require(LiteDbScriptStore.TryInsert(_database, script), $"a script '{script.Name}' exists already");
            }

            foreach (var name in change.RemovedScripts)
            {
                Require(LiteDbScriptStore.Delete(_database, name), $"no script '{name}'");
            }

            if (change.ApplianceSettings is { } settings)
            {
                LiteDbSettingsStore.Write(_database, settings);
            }

            if (change.MailSettings is { } mailPage)
            {
                LiteDbMailSettingsStore.Write(_database, mailPage.Settings);
            }

            foreach (var link in change.PasswordLinks)
            {
                LiteDbPasswordLinkStore.Write(_database, link);
            }

            foreach (var code in change.NewSessionCodes)
            {
                Require(LiteDbSessionCodeStore.TryInsert(_database, code, code.CreatedAt), "a live session code with the same digits exists");
            }

            foreach (var use in change.SessionCodeUses)
            {
                Require(LiteDbSessionCodeStore.Redeem(_database, use), "the session code was used or expired meanwhile");
            }

            foreach (var session in change.NewSessions)
            {
                LiteDbSessionLog.Write(_database, session);
            }

            foreach (var consent in change.NewConsents)
            {
                LiteDbConsentStore.Write(_database, consent);
            }

            foreach (var grant in change.SessionGrants)
            {
                Require(LiteDbSessionLog.AddGrant(_database, grant.SessionId, grant.Grant), "the session has ended");
            }

            foreach (var end in change.SessionEnds)
            {
                Require(LiteDbSessionLog.End(_database, end), "the session has ended already");
            }

            foreach (var mail in change.Mails.Concat(change.MailsFromEvents?.Invoke(appended) ?? []))
            {
                LiteDbOutbox.Write(_database, mail);
            }

            return appended;
        }), cancellationToken);
    }

    /// <summary>A write the change depends on did not happen (the record exists, or is gone): the whole change fails.</summary>
    private static void Require(bool done, string conflict)
    {
        if (!done)
        {
            throw new AtomicConflictException(conflict);
        }
    }

    /// <summary>Chains and inserts one event; the caller holds the write gate.</summary>
    private AuditEvent Append(AuditEntry entry)
    {
        if (!_lastKnown)
        {
            _last = ReadLast();
            _lastKnown = true;
        }

        var appended = AuditChain.Append(_last, entry);
        Events.Insert(AuditDocument.From(appended));
        _last = appended;
        return appended;
    }

    private void ForgetHead() => _lastKnown = false;

    public async IAsyncEnumerable<AuditEvent> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long after = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var from = after;
            var page = Events.Query().Where(e => e.Id > from).OrderBy(e => e.Id).Limit(PageSize).ToList();
            foreach (var document in page)
            {
                yield return document.ToEvent();
            }

            if (page.Count < PageSize)
            {
                yield break;
            }

            after = page[^1].Id;
            await Task.Yield();
        }
    }

    public Task<IReadOnlyList<AuditEvent>> QueryAsync(
        DateTimeOffset? since, DateTimeOffset? until, string? sessionId, bool newestFirst, int limit, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var (start, end) = (since?.UtcTicks ?? long.MinValue, until?.UtcTicks ?? long.MaxValue);
        var query = Events.Query().Where(e => e.AtTicks >= start && e.AtTicks < end);
        if (sessionId is not null)
        {
            query = query.Where(e => e.SessionId == sessionId);
        }

        var ordered = newestFirst ? query.OrderByDescending(e => e.Id) : query.OrderBy(e => e.Id);
        IReadOnlyList<AuditEvent> events = ordered.Limit(limit).ToEnumerable().Select(e => e.ToEvent()).ToList();
        return Task.FromResult(events);
    }

    public Task<AuditEvent?> FindAsync(long sequence, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Events.FindById(sequence)?.ToEvent());
    }

    public Task<AuditEvent?> LastAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(ReadLast());
    }

    private AuditEvent? ReadLast() => Events.Query().OrderByDescending(e => e.Id).Limit(1).FirstOrDefault()?.ToEvent();

    public Task AddSignedHeadAsync(SignedHead head, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(head);
        cancellationToken.ThrowIfCancellationRequested();
        Heads.Insert(new HeadDocument { Sequence = head.Sequence, Hash = head.Hash, AtTicks = head.At.UtcTicks, Signature = head.Signature });
        return Task.CompletedTask;
    }

    public Task<SignedHead?> LatestSignedHeadAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var head = Heads.Query().OrderByDescending(h => h.Id).Limit(1).FirstOrDefault();
        return Task.FromResult(head is null ? null : new SignedHead(head.Sequence, head.Hash, new DateTimeOffset(head.AtTicks, TimeSpan.Zero), head.Signature));
    }

    public void Dispose() => _database.RolledBack -= ForgetHead;

    private ILiteCollection<HeadDocument> Heads => _database.Lite.GetCollection<HeadDocument>("audit_heads");

    internal sealed class HeadDocument
    {
        [BsonId(autoId: true)]
        public long Id { get; set; }

        public long Sequence { get; set; }

        public string Hash { get; set; } = string.Empty;

        public long AtTicks { get; set; }

        public byte[] Signature { get; set; } = [];
    }

    internal sealed class AuditDocument
    {
        [BsonId(autoId: false)]
        public long Id { get; set; }

        public long AtTicks { get; set; }

        public string Actor { get; set; } = string.Empty;

        public string Action { get; set; } = string.Empty;

        public string? Target { get; set; }

        public string? SessionId { get; set; }

        public string? Source { get; set; }

        public Dictionary<string, string> Details { get; set; } = new(StringComparer.Ordinal);

        public string PreviousHash { get; set; } = string.Empty;

        public string Hash { get; set; } = string.Empty;

        public static AuditDocument From(AuditEvent audit) => new()
        {
            Id = audit.Sequence,
            AtTicks = audit.Entry.At.UtcTicks,
            Actor = audit.Entry.Actor,
            Action = audit.Entry.Action,
            Target = audit.Entry.Target,
            SessionId = audit.Entry.SessionId,
            Source = audit.Entry.Source,
            Details = new Dictionary<string, string>(audit.Entry.Details ?? new Dictionary<string, string>(), StringComparer.Ordinal),
            PreviousHash = audit.PreviousHash,
            Hash = audit.Hash,
        };

        public AuditEvent ToEvent() => new(
            Id,
            new AuditEntry(new DateTimeOffset(AtTicks, TimeSpan.Zero), Actor, Action, Target, SessionId, Source, Details),
            PreviousHash,
            Hash);
    }
}
