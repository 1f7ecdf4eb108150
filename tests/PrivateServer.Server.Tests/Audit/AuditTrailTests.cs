using LiteDB;
using Microsoft.Extensions.Logging.Abstractions;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tests.Audit;

/// <summary>The hash chain in the real (encrypted) database, tampered with through LiteDB itself, as someone holding the key could.</summary>
public sealed class AuditTrailTests : IAsyncLifetime, IDisposable
{
    private readonly ManualClock _clock = ManualClock.Monday();
    private TempDatabase? _temp;

    public async Task InitializeAsync() => _temp = await TempDatabase.OpenAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private ILiteCollection<BsonDocument> Raw => _temp!.Database.Lite.GetCollection("audit");

    [Fact]
    public async Task Verify_AnUntouchedTrail_HoldsAndEndsAtTheLastEventsHash()
    {
        using var log = new LiteDbAuditLog(_temp!.Database);
        var initialised = (await log.LastAsync(CancellationToken.None))!.Sequence;
        var last = await WriteAsync(log, 5);

        var result = await Trail(log).VerifyAsync(CancellationToken.None);

        initialised.Should().Be(2, "init records the appliance's start and the first admin");
        result.Should().Be(new AuditVerification(true, initialised + 5, null, null, last.Hash));
    }

    [Fact]
    public async Task Verify_AModifiedEvent_NamesIt()
    {
        using var log = new LiteDbAuditLog(_temp!.Database);
        await WriteAsync(log, 6);
        var third = Raw.FindById(3);
        third["Actor"] = "mallory";
        Raw.Update(third);

        var result = await Trail(log).VerifyAsync(CancellationToken.None);

        result.Intact.Should().BeFalse();
        result.BrokenAt.Should().Be(3);
        result.Verified.Should().Be(2);
        result.Problem.Should().Be("event 3 was modified: its content does not match its hash");
    }

    [Fact]
    public async Task Verify_ARemovedEvent_NamesIt()
    {
        using var log = new LiteDbAuditLog(_temp!.Database);
        await WriteAsync(log, 6);
        Raw.Delete(4);

        var result = await Trail(log).VerifyAsync(CancellationToken.None);

        result.BrokenAt.Should().Be(4);
        result.Problem.Should().Be("event 4 was removed");
    }

    [Fact]
    public async Task Verify_TwoEventsSwapped_NamesTheFirstThatIsOutOfPlace()
    {
        using var log = new LiteDbAuditLog(_temp!.Database);
        await WriteAsync(log, 6);
        var (fourth, fifth) = (Raw.FindById(4), Raw.FindById(5));
        (fourth["_id"], fifth["_id"]) = (5L, 4L);
        Raw.Delete(4);
        Raw.Delete(5);
        Raw.Insert(fourth);
        Raw.Insert(fifth);

        var result = await Trail(log).VerifyAsync(CancellationToken.None);

        result.BrokenAt.Should().Be(4);
        result.Problem.Should().Be("event 4 does not follow event 3: the trail was reordered");
    }

    [Fact]
    public async Task Append_AfterAReopen_ContinuesTheChain()
    {
        using (var first = new LiteDbAuditLog(_temp!.Database))
        {
            await WriteAsync(first, 2);
        }

        using var reopened = new LiteDbAuditLog(_temp.Database);
        var fifth = await reopened.AppendAsync(new AuditEntry(_clock.GetUtcNow(), "bob", "login.ok"), CancellationToken.None);
        var result = await Trail(reopened).VerifyAsync(CancellationToken.None);

        fifth.Sequence.Should().Be(5, "init wrote two events, the first log two more");
        result.Intact.Should().BeTrue();
        result.Verified.Should().Be(5);
    }

    [Fact]
    public void CanonicalForm_IsTheDocumentedJson_WithDetailsSortedAndTimeInFullPrecision()
    {
        var entry = new AuditEntry(
            new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.FromHours(1)).AddTicks(1234567), "alice", "session.granted", "pc-01", "se-1", null,
            new Dictionary<string, string> { ["permissions"] = "view control", ["consent"] = "asked", ["note"] = "Grüße \"x\"" });

        var text = System.Text.Encoding.UTF8.GetString(AuditChain.CanonicalForm(entry, AuditChain.Genesis));

        text.Should().Be(
            "{\"at\":\"2026-11-23T09:00:00.1234567Z\",\"actor\":\"alice\",\"action\":\"session.granted\",\"target\":\"pc-01\",\"session\":\"se-1\",\"source\":null," +
            "\"details\":{\"consent\":\"asked\",\"note\":\"Grüße \\\"x\\\"\",\"permissions\":\"view control\"},\"prev\":\"" + new string('0', 64) + "\"}");
        AuditChain.HashOf(entry, AuditChain.Genesis).Should().MatchRegex("^[0-9a-f]{64}$");
    }

    public void Dispose() => _temp?.Dispose();

    private async Task<AuditEvent> WriteAsync(LiteDbAuditLog log, int count)
    {
        AuditEvent? last = null;
        for (var i = 1; i <= count; i++)
        {
            _clock.Advance(TimeSpan.FromTicks(12_345_678));
            last = await log.AppendAsync(
                new AuditEntry(_clock.GetUtcNow(), "alice", i % 2 == 0 ? "login.ok" : "login.failed", "alice", null, "192.0.2.7",
                    new Dictionary<string, string> { ["n"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) }),
                CancellationToken.None);
        }

        return last!;
    }

    private AuditTrail Trail(IAuditLog log) => new(log, _clock, NullLogger<AuditTrail>.Instance);
}
