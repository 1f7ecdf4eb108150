using Microsoft.Extensions.Logging.Abstractions;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Broker;
using PrivateServer.Server.Mail;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tests.Mail;

/// <summary>Session protocols by mail: once per session and recipient, also when a crash came between the end and the mail.</summary>
public sealed class SessionProtocolMailTests : IAsyncLifetime, IDisposable
{
    private readonly ManualClock _clock = ManualClock.Monday();
    private TempDatabase? _temp;

    public async Task InitializeAsync()
    {
        _temp = await TempDatabase.OpenAsync();
        var users = new LiteDbUserStore(_temp.Database);
        await users.TryAddAsync(new User("alice", Role.Supporter, [], "alice@example.internal", "x", false, _clock.GetUtcNow()), CancellationToken.None);
        var log = new LiteDbSessionLog(_temp.Database);
        var now = _clock.GetUtcNow();
        await log.AddAsync(new SessionRecord("se-old", "alice", "h-1", "desktop", "enrolled", ["view"], now.AddDays(-3)), CancellationToken.None);
        await log.EndAsync("se-old", now.AddDays(-3).AddHours(1), "supporter", "done", CancellationToken.None);
        await log.AddAsync(new SessionRecord("se-crashed", "alice", "h-1", "desktop", "enrolled", ["view"], now.AddHours(-2)), CancellationToken.None);
        await log.EndAsync("se-crashed", now.AddHours(-1), "host", "emergency stop", CancellationToken.None);
        await log.AddAsync(new SessionRecord("se-refused", "alice", "h-1", "desktop", "enrolled", ["control"], now.AddMinutes(-30)), CancellationToken.None);
        await log.EndAsync("se-refused", now.AddMinutes(-30), "refused", "the host's user refused", CancellationToken.None);
        await log.AddAsync(new SessionRecord("se-running", "alice", "h-1", "desktop", "enrolled", ["view"], now.AddMinutes(-5)), CancellationToken.None);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task CatchUp_AtStart_QueuesTheProtocolOfARecentlyEndedSessionOnce_PerRecipient_AndNotOldRefusedOrRunningOnes()
    {
        var protocols = Protocols("audit@example.internal");

        var first = await protocols.CatchUpAsync(CancellationToken.None);
        var second = await Protocols("audit@example.internal").CatchUpAsync(CancellationToken.None);
        var endedAgain = await protocols.SessionEndsAsync(new SessionEnd("se-crashed", _clock.GetUtcNow(), "server", "again"), CancellationToken.None);
        var mails = await new LiteDbOutbox(_temp!.Database).ListAsync(includeSent: true, 10, CancellationToken.None);

        (first, second).Should().Be((2, 0));
        endedAgain.Should().BeNull("an ended session does not end again");
        mails.Select(m => m.To).Should().BeEquivalentTo(["alice@example.internal", "audit@example.internal"]);
        mails.Should().AllSatisfy(m => m.Text.Should().Contain("Session se-crashed: alice on desktop (via enrolled).").And.Contain("Ended by host: emergency stop."));
    }

    [Fact]
    public async Task TheEndOfASession_ItsEventAndItsProtocolMails_AreOneTransaction_AndTheMailQuotesTheEndingEvent()
    {
        var protocols = Protocols("audit@example.internal");
        var writer = new LiteDbAuditLog(_temp!.Database);
        var sessions = new LiteDbSessionLog(_temp.Database);
        var outbox = new LiteDbOutbox(_temp.Database);
        var now = _clock.GetUtcNow();
        await writer.AppendAsync(new AuditEntry(now.AddMinutes(-5), "alice", "session.requested", "desktop", "se-running", null, null), CancellationToken.None);

        var failing = await EndingAsync(protocols, now);
        failing.NewUsers.Add(new User("ALICE", Role.Supporter, [], null, "x", false, now));
        var failed = async () => await writer.WriteAsync(failing, CancellationToken.None);
        await failed.Should().ThrowAsync<AtomicConflictException>();
        var afterFailure = (await sessions.FindAsync("se-running", CancellationToken.None))!.EndedAt;
        var mailsAfterFailure = await outbox.ListAsync(includeSent: true, 10, CancellationToken.None);
        var endingEvents = await writer.WriteAsync(await EndingAsync(protocols, now), CancellationToken.None);
        var ended = (await sessions.FindAsync("se-running", CancellationToken.None))!;
        var mails = await outbox.ListAsync(includeSent: true, 10, CancellationToken.None);

        afterFailure.Should().BeNull("a change that fails ends nothing");
        mailsAfterFailure.Should().BeEmpty("nor does it queue a protocol");
        ended.EndedBy.Should().Be("supporter");
        mails.Select(m => m.To).Should().BeEquivalentTo(["alice@example.internal", "audit@example.internal"]);
        mails.Should().AllSatisfy(m => m.Text.Should().Contain("Ended by supporter: done.")
            .And.Contain($"#{endingEvents.Single().Sequence} alice session.ended desktop")
            .And.Contain("alice session.requested desktop"));
        (await new AuditTrail(writer, _clock, NullLogger<AuditTrail>.Instance).VerifyAsync(CancellationToken.None))
            .Intact.Should().BeTrue();
    }

    public void Dispose() => _temp?.Dispose();

    private static async Task<AtomicChange> EndingAsync(SessionProtocolMail protocols, DateTimeOffset now)
    {
        var end = new SessionEnd("se-running", now, "supporter", "done");
        var change = new AtomicChange();
        change.SessionEnds.Add(end);
        change.Audit.Add(new AuditEntry(now, "alice", "session.ended", "desktop", "se-running", null, null));
        change.MailsFromEvents = (await protocols.SessionEndsAsync(end, CancellationToken.None))!.Compose;
        return change;
    }

    private SessionProtocolMail Protocols(string auditMailbox) => new(
        new LiteDbSessionLog(_temp!.Database), new LiteDbConsentStore(_temp.Database), new LiteDbUserStore(_temp.Database), new LiteDbAuditLog(_temp.Database),
        new LiteDbOutbox(_temp.Database), TestMail.Mailer(_temp, _clock), new StaticOptionsMonitor<MailOptions>(new MailOptions { AuditMailbox = auditMailbox }), _clock,
        NullLogger<SessionProtocolMail>.Instance);
}
