using System.Diagnostics;
using LiteDB;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tests.Audit;

/// <summary>
/// Events appended with their commit deferred (a stream opened): chained at once, stored in groups, and never missing
/// for a reader, after a rolled-back change, at a shutdown or when a group cannot be written.
/// </summary>
public sealed class GroupCommitTests : IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private TempDatabase _temp = null!;

    public async Task InitializeAsync() => _temp = await TempDatabase.OpenAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _temp.Dispose();

    private ILiteCollection<BsonDocument> Raw => _temp.Database.Lite.GetCollection("audit");

    [Fact]
    public async Task DeferredEvents_AreChainedAtOnce_AndStoredTogetherAfterTheDelay()
    {
        using var log = new LiteDbAuditLog(_temp.Database, _time);
        var stored = Raw.Count();

        var first = await log.AppendDeferredAsync(Opened("se-1"), default);
        var second = await log.AppendDeferredAsync(Opened("se-1"), default);

        second.Sequence.Should().Be(first.Sequence + 1);
        second.PreviousHash.Should().Be(first.Hash);
        Raw.Count().Should().Be(stored, "nothing is written before the group's delay has passed");
        _time.Advance(LiteDbAuditLog.GroupCommitDelay);
        await WaitUntilAsync(() => Raw.Count() == stored + 2);
        Raw.FindById(second.Sequence)["Hash"].AsString.Should().Be(second.Hash);
    }

    [Fact]
    public async Task Reads_StoreTheDeferredEventsFirst()
    {
        using var log = new LiteDbAuditLog(_temp.Database, _time);
        var opened = await log.AppendDeferredAsync(Opened("se-2"), default);

        var last = await log.LastAsync(default);
        var ofSession = await log.QueryAsync(null, null, "se-2", newestFirst: false, limit: 10, default);
        var found = await log.FindAsync(opened.Sequence, default);

        last!.Hash.Should().Be(opened.Hash);
        ofSession.Select(e => e.Hash).Should().Equal(opened.Hash);
        found!.Entry.Action.Should().Be("stream.opened");
        (Raw.FindById(opened.Sequence) is not null).Should().BeTrue("the read wrote the group before it looked");
    }

    [Fact]
    public async Task AChain_OfDeferredWaitingAndAtomicWrites_StaysInOrderAndIntact()
    {
        using var log = new LiteDbAuditLog(_temp.Database, _time);
        var trail = new AuditTrail(log, _time, NullLogger<AuditTrail>.Instance);
        var before = (await log.LastAsync(default))!.Sequence;

        var a = await log.AppendDeferredAsync(Opened("se-3"), default);
        var b = await log.AppendAsync(Entry("login.ok"), default);
        var c = await log.AppendDeferredAsync(Opened("se-3"), default);
        var change = new AtomicChange();
        change.Audit.Add(Entry("settings.changed"));
        await trail.WriteAsync(change, default);
        var e = await log.AppendDeferredAsync(Opened("se-3"), default);
        var verified = await trail.VerifyAsync(default);

        new[] { a.Sequence, b.Sequence, c.Sequence, e.Sequence }.Should().Equal(before + 1, before + 2, before + 3, before + 5);
        verified.Intact.Should().BeTrue();
        verified.Verified.Should().Be(before + 5);
        verified.Head.Should().Be(e.Hash);
    }

    [Fact]
    public async Task ARolledBackChange_KeepsTheDeferredEventsBeforeIt()
    {
        using var log = new LiteDbAuditLog(_temp.Database, _time);
        var trail = new AuditTrail(log, _time, NullLogger<AuditTrail>.Instance);
        var opened = await log.AppendDeferredAsync(Opened("se-4"), default);
        var change = new AtomicChange();
        change.Audit.Add(Entry("token.deleted"));
        change.DeletedEnrollmentTokens.Add("no-such-token-hash");

        var conflicting = () => trail.WriteAsync(change, default);

        await conflicting.Should().ThrowAsync<AtomicConflictException>();
        (Raw.FindById(opened.Sequence) is not null).Should().BeTrue("the deferred event was written in a transaction of its own");
        var next = await log.AppendAsync(Entry("login.ok"), default);
        next.Sequence.Should().Be(opened.Sequence + 1);
        next.PreviousHash.Should().Be(opened.Hash, "the rolled-back event is not in the chain; the deferred one is");
        (await trail.VerifyAsync(default)).Intact.Should().BeTrue();
    }

    [Fact]
    public async Task Disposal_StoresTheDeferredEvents_ForTheNextStart()
    {
        var log = new LiteDbAuditLog(_temp.Database, _time);
        var opened = await log.AppendDeferredAsync(Opened("se-5"), default);

        await log.DisposeAsync();
        _temp.Reopen();
        using var restarted = new LiteDbAuditLog(_temp.Database, _time);

        (await restarted.LastAsync(default))!.Hash.Should().Be(opened.Hash);
        var late = () => log.AppendDeferredAsync(Opened("se-5"), default);
        await late.Should().ThrowAsync<ObjectDisposedException>("a disposed log would never store it");
    }

    [Fact]
    public async Task SynchronousDisposal_StoresTheDeferredEventsToo()
    {
        var log = new LiteDbAuditLog(_temp.Database, _time);
        var opened = await log.AppendDeferredAsync(Opened("se-6"), default);

        log.Dispose();

        Raw.FindById(opened.Sequence)["Hash"].AsString.Should().Be(opened.Hash);
    }

    [Fact]
    public async Task AGroupThatCannotBeWritten_StaysTheHead_RefusesFurtherAppends_AndIsWrittenOnceItCan()
    {
        using var log = new LiteDbAuditLog(_temp.Database, _time);
        var trail = new AuditTrail(log, _time, NullLogger<AuditTrail>.Instance);
        var opened = await log.AppendDeferredAsync(Opened("se-7"), default);
        // Something else holds the group's sequence number: its insert fails (duplicate key).
        Raw.Insert(new BsonDocument { ["_id"] = opened.Sequence, ["Action"] = "squatter" });

        var waiting = () => log.AppendAsync(Entry("login.ok"), default);
        var deferred = () => log.AppendDeferredAsync(Opened("se-7"), default);

        await waiting.Should().ThrowAsync<IOException>().WithMessage("the audit trail could not be written*1 event waits*");
        await deferred.Should().ThrowAsync<IOException>("nothing is chained behind events that cannot be written");
        Raw.Delete(opened.Sequence);
        var next = await log.AppendAsync(Entry("login.ok"), default);
        next.Sequence.Should().Be(opened.Sequence + 1);
        next.PreviousHash.Should().Be(opened.Hash);
        Raw.FindById(opened.Sequence)["Hash"].AsString.Should().Be(opened.Hash);
        (await trail.VerifyAsync(default)).Intact.Should().BeTrue();
    }

    [Fact]
    public async Task AnAppendThatCannotBeStored_LeavesTheHeadWhereItWas()
    {
        // A new log: it reads the head from the database at its first append.
        using var log = new LiteDbAuditLog(_temp.Database, _time);
        var trail = new AuditTrail(log, _time, NullLogger<AuditTrail>.Instance);
        var head = Raw.FindAll().OrderByDescending(d => d["_id"].AsInt64).First();
        // LiteDB stores no document over 16 MiB.
        var tooLarge = new AuditEntry(_time.GetUtcNow(), "admin", "script.added", null, null, null, new Dictionary<string, string> { ["body"] = new('x', 17 << 20) });

        var failing = () => log.AppendAsync(tooLarge, default);

        await failing.Should().ThrowAsync<LiteException>();
        var next = await log.AppendAsync(Entry("login.ok"), default);
        next.Sequence.Should().Be(head["_id"].AsInt64 + 1);
        next.PreviousHash.Should().Be(head["Hash"].AsString, "the event that was not stored is not the head");
        (await trail.VerifyAsync(default)).Intact.Should().BeTrue();
    }

    private AuditEntry Opened(string session) =>
        new(_time.GetUtcNow(), "alice", "stream.opened", "pc-01", session, null, new Dictionary<string, string> { ["service"] = "screen" });

    private AuditEntry Entry(string action) => new(_time.GetUtcNow(), "admin", action, null, null, "192.0.2.7", null);

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            clock.Elapsed.Should().BeLessThan(Deadline, "the group should have been written by now");
            await Task.Delay(10);
        }
    }
}
