using Microsoft.Extensions.Logging.Abstractions;
using PrivateServer.Server.Accounts;
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
        await log.AddAsync(new SessionRecord("se-running", "alice", "h-1", "desktop", "enrolled", ["view"], now.AddMinutes(-5)), CancellationToken.None);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task CatchUp_AtStart_QueuesTheProtocolOfARecentlyEndedSessionOnce_PerRecipient_AndNotOldOrRunningOnes()
    {
        var protocols = Protocols("audit@example.internal");

        var first = await protocols.CatchUpAsync(CancellationToken.None);
        var second = await Protocols("audit@example.internal").CatchUpAsync(CancellationToken.None);
        var atEnd = await protocols.SessionEndedAsync("se-crashed", CancellationToken.None);
        var mails = await new LiteDbOutbox(_temp!.Database).ListAsync(includeSent: true, 10, CancellationToken.None);

        (first, second, atEnd).Should().Be((2, 0, 0));
        mails.Select(m => m.To).Should().BeEquivalentTo(["alice@example.internal", "audit@example.internal"]);
        mails.Should().AllSatisfy(m => m.Text.Should().Contain("Session se-crashed: alice on desktop (via enrolled).").And.Contain("Ended by host: emergency stop."));
    }

    public void Dispose() => _temp?.Dispose();

    private SessionProtocolMail Protocols(string auditMailbox) => new(
        new LiteDbSessionLog(_temp!.Database), new LiteDbConsentStore(_temp.Database), new LiteDbUserStore(_temp.Database), new LiteDbAuditLog(_temp.Database),
        new LiteDbOutbox(_temp.Database), TestMail.Mailer(_temp, _clock), new StaticOptionsMonitor<MailOptions>(new MailOptions { AuditMailbox = auditMailbox }), _clock,
        NullLogger<SessionProtocolMail>.Instance);
}
