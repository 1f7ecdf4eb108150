using System.Runtime.CompilerServices;
using LiteDB;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PrivateServer.Server.Audit;

namespace PrivateServer.Server.Storage;

/// <summary>
/// The audit trail in <c>audit</c>, keyed by sequence number. Appends are serialised and chained to
/// the last event (kept in memory after the first read; one process owns the database). Times are
/// kept as UTC ticks: BSON dates hold milliseconds only, and the hash covers the full time.
/// </summary>
/// <remarks>
/// An event appended with <see cref="AppendDeferredAsync"/> is chained at once and committed with the others of the
/// next <see cref="GroupCommitDelay"/> in one transaction (a LiteDB commit per event was most of what an append cost:
/// ~0.2 ms each, ~0.045 ms in groups of ten). Whatever reads or writes the trail commits them first, so nothing ever
/// sees the chain with a gap; a failed group commit keeps them in memory and refuses further appends until they are
/// written.
/// </remarks>
internal sealed partial class LiteDbAuditLog : IAuditLog, IAtomicWriter, IDisposable, IAsyncDisposable
{
    private const int PageSize = 1000;

    /// <summary>How long an event appended with its commit deferred waits for others to be committed with.</summary>
    public static readonly TimeSpan GroupCommitDelay = TimeSpan.FromMilliseconds(10);

    /// <summary>The most deferred events held in memory: the append that reaches it commits them at once.</summary>
    internal const int MaximumDeferred = 256;

    private readonly ApplianceDatabase _database;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _disposing = new();

    // Chained but not committed yet, oldest first; under the write gate, as are the fields below.
    private readonly List<AuditEvent> _deferred = [];
    private bool _commitScheduled;
    private bool _lastGroupFailed;
    private AuditEvent? _last;
    private bool _lastKnown;

    public LiteDbAuditLog(ApplianceDatabase database, TimeProvider? time = null, ILogger<LiteDbAuditLog>? logger = null)
    {
        _database = database;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger<LiteDbAuditLog>.Instance;
        Events.EnsureIndex(e => e.AtTicks);
        Events.EnsureIndex(e => e.SessionId);
        // A rolled-back transaction may have moved the head in memory: read it again from what was committed.
        _database.RolledBack += ForgetHead;
    }

    private ILiteCollection<AuditDocument> Events => _database.Lite.GetCollection<AuditDocument>("audit");

    public Task<AuditEvent> AppendAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return _database.UnderWriteGateAsync(
            () =>
            {
                CommitDeferred();
                return Append(entry);
            },
            cancellationToken);
    }

    public Task<AuditEvent> AppendDeferredAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return _database.UnderWriteGateAsync(
            () =>
            {
                ObjectDisposedException.ThrowIf(_disposing.IsCancellationRequested, this);
                if (_lastGroupFailed || _deferred.Count >= MaximumDeferred)
                {
                    // Fails closed: nothing more is appended while earlier events cannot be written.
                    CommitDeferred();
                }

                var appended = Next(entry);
                _deferred.Add(appended);
                _last = appended;
                if (!_commitScheduled)
                {
                    _commitScheduled = true;
                    _ = CommitLaterAsync();
                }

                return appended;
            },
            cancellationToken);
    }

    /// <summary>Commits the deferred events <see cref="GroupCommitDelay"/> from now (or at disposal).</summary>
    private async Task CommitLaterAsync()
    {
        try
        {
            await Task.Delay(GroupCommitDelay, _time, _disposing.Token);
            await _database.UnderWriteGateAsync(
                () =>
                {
                    _commitScheduled = false;
                    TryCommitDeferred();
                },
                _disposing.Token);
        }
        catch (OperationCanceledException)
        {
            // Disposal commits them.
        }
        catch (ObjectDisposedException ex)
        {
            // The database was closed before this log: what waited is lost, and says so.
            LogGroupCommitFailed(_logger, ex);
        }
    }

    /// <summary>
    /// Writes the deferred events in one transaction; the caller holds the write gate. When that fails they stay
    /// (still the chain's head) and this throws, as it does for every caller until they are written.
    /// </summary>
    private void CommitDeferred()
    {
        if (_deferred.Count == 0)
        {
            return;
        }

        try
        {
            Events.Insert(_deferred.Select(AuditDocument.From));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _lastGroupFailed = true;
            var waiting = _deferred.Count == 1 ? "1 event waits" : $"{_deferred.Count} events wait";
            throw new IOException($"the audit trail could not be written ({ex.Message}); {waiting} in memory for the next try", ex);
        }

        _deferred.Clear();
        _lastGroupFailed = false;
    }

    /// <summary>
    /// <see cref="CommitDeferred"/> where nobody waits for the answer: a failure is logged, the events stay in memory
    /// (appends fail until they are written); the caller holds the write gate.
    /// </summary>
    private void TryCommitDeferred()
    {
        try
        {
            CommitDeferred();
        }
        catch (IOException ex)
        {
            LogGroupCommitFailed(_logger, ex);
        }
    }

    /// <summary>Commits the deferred events before a read, so that it sees the whole chain; when they cannot be written, the read sees what is.</summary>
    private Task CommitBeforeReadAsync(CancellationToken cancellationToken) => _database.UnderWriteGateAsync(TryCommitDeferred, cancellationToken);

    /// <summary>Users, groups, hosts, enrolment tokens, settings, sessions, links, mails and the events recording them in one transaction; on any failure nothing is stored and the head is read again.</summary>
    public Task<IReadOnlyList<AuditEvent>> WriteAsync(AtomicChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        return _database.UnderWriteGateAsync(() =>
        {
            // Its own transaction first: a rollback of the change below must not take them along.
            CommitDeferred();
            return WriteChange(change);
        }, cancellationToken);
    }

    private IReadOnlyList<AuditEvent> WriteChange(AtomicChange change) =>
        _database.InTransaction<IReadOnlyList<AuditEvent>>(() =>
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
        });

    /// <summary>A write the change depends on did not happen (the record exists, or is gone): the whole change fails.</summary>
    private static void Require(bool done, string conflict)
    {
        if (!done)
        {
            throw new AtomicConflictException(conflict);
        }
    }

    /// <summary>Chains and inserts one event; the caller holds the write gate and committed the deferred ones.</summary>
    private AuditEvent Append(AuditEntry entry)
    {
        var appended = Next(entry);
        Events.Insert(AuditDocument.From(appended));
        _last = appended;
        return appended;
    }

    /// <summary>The event that would follow the chain's head (which it becomes only once stored or deferred); the caller holds the write gate.</summary>
    private AuditEvent Next(AuditEntry entry)
    {
        if (!_lastKnown)
        {
            _last = ReadLast();
            _lastKnown = true;
        }

        return AuditChain.Append(_last, entry);
    }

    /// <summary>After a rollback: the head is read again from what was committed (no deferred event is then waiting: they are committed before any transaction).</summary>
    private void ForgetHead() => _lastKnown = false;

    public async IAsyncEnumerable<AuditEvent> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await CommitBeforeReadAsync(cancellationToken);
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

    public async Task<IReadOnlyList<AuditEvent>> QueryAsync(
        DateTimeOffset? since, DateTimeOffset? until, string? sessionId, bool newestFirst, int limit, CancellationToken cancellationToken)
    {
        await CommitBeforeReadAsync(cancellationToken);
        var (start, end) = (since?.UtcTicks ?? long.MinValue, until?.UtcTicks ?? long.MaxValue);
        var query = Events.Query().Where(e => e.AtTicks >= start && e.AtTicks < end);
        if (sessionId is not null)
        {
            query = query.Where(e => e.SessionId == sessionId);
        }

        var ordered = newestFirst ? query.OrderByDescending(e => e.Id) : query.OrderBy(e => e.Id);
        return ordered.Limit(limit).ToEnumerable().Select(e => e.ToEvent()).ToList();
    }

    public async Task<AuditEvent?> FindAsync(long sequence, CancellationToken cancellationToken)
    {
        await CommitBeforeReadAsync(cancellationToken);
        return Events.FindById(sequence)?.ToEvent();
    }

    public async Task<AuditEvent?> LastAsync(CancellationToken cancellationToken)
    {
        await CommitBeforeReadAsync(cancellationToken);
        return ReadLast();
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

    /// <summary>Commits what is deferred and stops committing later; the database stays open (its owner closes it).</summary>
    public void Dispose()
    {
        if (!_disposing.IsCancellationRequested)
        {
            _disposing.Cancel();
            _database.WriteGate.Wait(CancellationToken.None);
            try
            {
                StopDeferring();
            }
            finally
            {
                _database.WriteGate.Release();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_disposing.IsCancellationRequested)
        {
            await _disposing.CancelAsync();
            await _database.UnderWriteGateAsync(StopDeferring, CancellationToken.None);
        }
    }

    /// <summary>The last commit of deferred events; under the write gate.</summary>
    private void StopDeferring()
    {
        _database.RolledBack -= ForgetHead;
        TryCommitDeferred();
    }

    [LoggerMessage(EventId = 5003, Level = LogLevel.Error, Message = "Could not commit deferred audit events; they are kept in memory and no event is appended until they are written")]
    private static partial void LogGroupCommitFailed(ILogger logger, Exception exception);

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
