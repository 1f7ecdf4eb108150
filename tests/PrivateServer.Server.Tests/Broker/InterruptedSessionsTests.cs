using Microsoft.Extensions.Logging.Abstractions;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Broker;
using PrivateServer.Server.Mail;
using PrivateServer.Server.Recording;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tests.Broker;

/// <summary>Sessions a stop or kill left running are ended at the next start, at their last activity, with a protocol only where one belongs.</summary>
public sealed class InterruptedSessionsTests : IAsyncLifetime, IDisposable
{
    private readonly ManualClock _clock = ManualClock.Monday();
    private TempDatabase? _temp;

    public async Task InitializeAsync()
    {
        _temp = await TempDatabase.OpenAsync();
        await new LiteDbUserStore(_temp.Database).TryAddAsync(
            new User("alice", Role.Supporter, [], "alice@example.internal", "x", false, _clock.GetUtcNow()), CancellationToken.None);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task AtStart_EveryUnendedSessionEndsAtItsLastActivity_AndOnlyARecentGrantedOneIsMailed()
    {
        var database = _temp!.Database;
        var log = new LiteDbAuditLog(database);
        var sessions = new LiteDbSessionLog(database);
        var consents = new LiteDbConsentStore(database);
        var now = _clock.GetUtcNow();
        await AddAsync(sessions, consents, log, "se-running", now.AddMinutes(-30), granted: true, lastActivity: now.AddMinutes(-12));
        await AddAsync(sessions, consents, log, "se-waiting", now.AddMinutes(-20), granted: false, lastActivity: null);
        await AddAsync(sessions, consents, log, "se-ancient", now.AddDays(-40), granted: true, lastActivity: now.AddDays(-40).AddMinutes(5));
        await sessions.AddAsync(new SessionRecord("se-done", "alice", "h-1", "desktop", "enrolled", ["view"], now.AddHours(-1)), CancellationToken.None);
        await sessions.EndAsync("se-done", now.AddMinutes(-50), "supporter", "done", CancellationToken.None);
        var audit = new AuditTrail(log, _clock, NullLogger<AuditTrail>.Instance);
        var protocols = new SessionProtocolMail(
            sessions, consents, new LiteDbUserStore(database), log, new LiteDbOutbox(database), TestMail.Mailer(_temp, _clock),
            new StaticOptionsMonitor<MailOptions>(new MailOptions()), _clock, NullLogger<SessionProtocolMail>.Instance);
        var interrupted = new InterruptedSessions(sessions, consents, log, audit, _clock, NullLogger<InterruptedSessions>.Instance, protocols);

        await interrupted.StartAsync(CancellationToken.None);
        await new InterruptedSessions(sessions, consents, log, audit, _clock, NullLogger<InterruptedSessions>.Instance, protocols).StartAsync(CancellationToken.None);
        var running = (await sessions.FindAsync("se-running", CancellationToken.None))!;
        var waiting = (await sessions.FindAsync("se-waiting", CancellationToken.None))!;
        var ancient = (await sessions.FindAsync("se-ancient", CancellationToken.None))!;
        var done = (await sessions.FindAsync("se-done", CancellationToken.None))!;
        var ends = (await log.QueryAsync(null, null, null, newestFirst: false, 100, CancellationToken.None)).Where(e => e.Entry.Action == "session.ended").ToList();
        var mails = await new LiteDbOutbox(database).ListAsync(includeSent: true, 10, CancellationToken.None);

        (running.EndedAt, running.EndedBy, running.EndReason).Should().Be((now.AddMinutes(-12), "server", InterruptedSessions.Reason));
        waiting.EndedAt.Should().Be(now.AddMinutes(-20), "with no event after its request, the request is its last activity");
        ancient.EndedAt.Should().Be(now.AddDays(-40).AddMinutes(5));
        (done.EndedAt, done.EndedBy).Should().Be((now.AddMinutes(-50), "supporter"), "an ended session is left as it is");
        ends.Select(e => e.Entry.SessionId).Should().BeEquivalentTo(["se-running", "se-waiting", "se-ancient"], "each once, also after a second start");
        ends.Should().AllSatisfy(e => (e.Entry.Actor, e.Entry.Details!["reason"]).Should().Be(("system", InterruptedSessions.Reason)));
        mails.Should().ContainSingle().Which.Text.Should().Contain("Session se-running: alice on desktop").And.Contain($"Ended by server: {InterruptedSessions.Reason}.");
        (await audit.VerifyAsync(CancellationToken.None)).Intact.Should().BeTrue();
    }

    [Fact]
    public async Task AtStart_RecordingsTheStopLeftUnsaved_AreSavedWithTheHashOfWhatReachedTheDisk_BeforeTheirSessionsEnd()
    {
        var database = _temp!.Database;
        var log = new LiteDbAuditLog(database);
        var sessions = new LiteDbSessionLog(database);
        var consents = new LiteDbConsentStore(database);
        var now = _clock.GetUtcNow();
        await AddAsync(sessions, consents, log, "se-cut", now.AddMinutes(-30), granted: true, lastActivity: now.AddMinutes(-3));
        await sessions.AddAsync(new SessionRecord("se-done", "alice", "h-1", "desktop", "enrolled", ["view"], now.AddHours(-1)), CancellationToken.None);
        await sessions.EndAsync("se-done", now.AddMinutes(-50), "supporter", "done", CancellationToken.None);
        var audit = new AuditTrail(log, _clock, NullLogger<AuditTrail>.Instance);
        var recordings = new ScreenRecordings(_temp.Folder, audit, _clock, NullLogger<ScreenRecordings>.Instance);
        // As kills leave them: a saved recording; one cut off mid-frame; one killed before anything reached the disk; one
        // of a session that had ended while its file was being hashed; one whose event was written but not its name.
        var month = Path.Combine(recordings.Root, "2026-11");
        Directory.CreateDirectory(month);
        var cut = "PSREC/1\n{\"session\":\"se-cut\",\"stream\":\"st-b\",\"service\":\"screen\"}\nS\0\0\0\0\0\0\0\u0001\0\0\0\u000cRFB 003"u8.ToArray();
        var late = "PSREC/1\n{\"session\":\"se-done\",\"stream\":\"st-d\",\"service\":\"screen\"}\n"u8.ToArray();
        await File.WriteAllBytesAsync(Path.Combine(month, "se-cut-st-a.psrec"), "PSREC/1\nsaved"u8.ToArray());
        await File.WriteAllBytesAsync(Path.Combine(month, "se-cut-st-b.psrec.part"), cut);
        await File.WriteAllBytesAsync(Path.Combine(month, "se-cut-st-c.psrec.part"), []);
        await File.WriteAllBytesAsync(Path.Combine(month, "se-done-st-d.psrec.part"), late);
        await File.WriteAllBytesAsync(Path.Combine(month, "se-cut-st-e.psrec.part"), "PSREC/1\nnamed too late"u8.ToArray());
        await log.AppendAsync(new AuditEntry(now.AddMinutes(-2), "system", "recording.saved", "2026-11/se-cut-st-a.psrec", "se-cut", null, null), CancellationToken.None);
        await log.AppendAsync(new AuditEntry(now.AddMinutes(-2), "system", "recording.saved", "2026-11/se-cut-st-e.psrec", "se-cut", null, null), CancellationToken.None);

        await new InterruptedSessions(sessions, consents, log, audit, _clock, NullLogger<InterruptedSessions>.Instance, recordings: recordings)
            .StartAsync(CancellationToken.None);
        var events = await log.QueryAsync(null, null, null, newestFirst: false, 100, CancellationToken.None);
        var saved = events.Where(e => e.Entry.Action == "recording.saved").ToDictionary(e => e.Entry.Target!);

        saved.Keys.Should().BeEquivalentTo(
            ["2026-11/se-cut-st-a.psrec", "2026-11/se-cut-st-b.psrec", "2026-11/se-cut-st-c.psrec", "2026-11/se-done-st-d.psrec", "2026-11/se-cut-st-e.psrec"],
            "each recording is saved once");
        Directory.GetFiles(month).Select(Path.GetFileName).Should().BeEquivalentTo(
            ["se-cut-st-a.psrec", "se-cut-st-b.psrec", "se-cut-st-c.psrec", "se-done-st-d.psrec", "se-cut-st-e.psrec"], "every recording has its name");
        var cutOff = saved["2026-11/se-cut-st-b.psrec"].Entry;
        (cutOff.SessionId, cutOff.Details!["stream"], cutOff.Details["sha256"], cutOff.Details["file-bytes"]).Should().Be(
            ("se-cut", "st-b", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(cut)), cut.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        cutOff.Details.Should().ContainKey("interrupted");
        (saved["2026-11/se-cut-st-c.psrec"].Entry.SessionId, saved["2026-11/se-cut-st-c.psrec"].Entry.Details!["file-bytes"]).Should().Be(("se-cut", "0"), "with nothing on disk its name says whose it is");
        saved["2026-11/se-done-st-d.psrec"].Entry.SessionId.Should().Be("se-done", "a recording of an ended session is saved too");
        events.Where(e => e.Entry.SessionId == "se-cut").Last().Entry.Action.Should().Be("session.ended", "the recordings are saved before their session ends");
        (await sessions.FindAsync("se-cut", CancellationToken.None))!.EndedAt.Should().Be(now.AddMinutes(-2), "the session's last event before the stop is its last activity, not the saving at the start");
        (await audit.VerifyAsync(CancellationToken.None)).Intact.Should().BeTrue();
    }

    public void Dispose() => _temp?.Dispose();

    private static async Task AddAsync(
        LiteDbSessionLog sessions, LiteDbConsentStore consents, LiteDbAuditLog log, string id, DateTimeOffset requested, bool granted, DateTimeOffset? lastActivity)
    {
        await sessions.AddAsync(new SessionRecord(id, "alice", "h-1", "desktop", "enrolled", ["view"], requested), CancellationToken.None);
        await log.AppendAsync(new AuditEntry(requested, "alice", "session.requested", "desktop", id, null, null), CancellationToken.None);
        if (granted)
        {
            await consents.AddAsync(
                new ConsentRecord(id, "alice", "h-1", "desktop", "enrolled", ConsentKind.Policy, true, ["view"], null, null, null, requested), CancellationToken.None);
            await log.AppendAsync(new AuditEntry(requested.AddSeconds(1), "desktop", "session.granted", "alice", id, null, null), CancellationToken.None);
        }

        if (lastActivity is { } at)
        {
            await log.AppendAsync(new AuditEntry(at, "alice", "stream.opened", "desktop", id, null, null), CancellationToken.None);
        }
    }
}
