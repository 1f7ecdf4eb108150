using PrivateServer.Server.Admin;
using PrivateServer.Server.Mail;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tests.Mail;

/// <summary>The outbox in the real database, and the queue in front of it.</summary>
public sealed class OutboxTests : IAsyncLifetime, IDisposable
{
    private readonly ManualClock _clock = ManualClock.Monday();
    private TempDatabase? _temp;

    public async Task InitializeAsync() => _temp = await TempDatabase.OpenAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task QueuedMail_IsStoredWholeWithAMessageIdOfThePublicHost_AndSurvivesARestart()
    {
        var queue = Queue(new Dictionary<string, string?> { ["Appliance:PublicUrl"] = "https://support.example.internal:8443" });

        var mail = await queue.QueueTestAsync("alice@example.internal", "de", CancellationToken.None);
        _temp!.Reopen();
        var stored = await new LiteDbOutbox(_temp.Database).FindAsync(mail.Value!.Id, CancellationToken.None);

        stored.Should().Be(mail.Value);
        stored!.State.Should().Be(MailState.Queued);
        stored.MessageId.Should().MatchRegex(@"^ml-[0-9a-f]{12}\.[0-9a-f]{16}@support\.example\.internal$");
        stored.Subject.Should().Be("PrivateServer: Testmail");
        stored.Text.Should().Contain("PrivateServer unter https://support.example.internal:8443/ Mail versenden kann");
        stored.NextAttemptAt.Should().Be(_clock.GetUtcNow());
        (await queue.BlockedAsync(CancellationToken.None)).Should().Be("no smarthost is configured (Mail:Host)", "nothing is preconfigured");
    }

    [Fact]
    public async Task Due_AreQueuedMailsWhoseTimeHasComeAndMailsLeftHalfSent_OldestFirst()
    {
        var outbox = new LiteDbOutbox(_temp!.Database);
        var now = _clock.GetUtcNow();
        await outbox.AddAsync(Mail("ml-later", MailState.Queued, now.AddMinutes(5)), CancellationToken.None);
        await outbox.AddAsync(Mail("ml-due", MailState.Queued, now.AddMinutes(-1)), CancellationToken.None);
        await outbox.AddAsync(Mail("ml-crashed", MailState.Sending, now.AddMinutes(-3)), CancellationToken.None);
        await outbox.AddAsync(Mail("ml-sent", MailState.Sent, now.AddMinutes(-9)), CancellationToken.None);
        await outbox.AddAsync(Mail("ml-failed", MailState.Failed, now.AddMinutes(-9)), CancellationToken.None);

        var due = await outbox.DueAsync(now, 10, CancellationToken.None);
        var next = await outbox.NextDueAsync(CancellationToken.None);
        var listed = await outbox.ListAsync(includeSent: false, 10, CancellationToken.None);

        due.Select(m => m.Id).Should().Equal("ml-crashed", "ml-due");
        next.Should().Be(now.AddMinutes(-1));
        listed.Select(m => m.Id).Should().BeEquivalentTo(["ml-later", "ml-due", "ml-crashed", "ml-failed"]);
    }

    [Fact]
    public async Task Retry_QueuesAFailedMailNowWithAFreshWindow_IsAudited_AndRefusesSentOrUnknownMail()
    {
        var outbox = new LiteDbOutbox(_temp!.Database);
        var queue = Queue();
        var longAgo = _clock.GetUtcNow().AddDays(-4);
        await outbox.AddAsync(Mail("ml-failed", MailState.Failed, longAgo) with { RetryFrom = longAgo, LastError = "refused" }, CancellationToken.None);
        await outbox.AddAsync(Mail("ml-sent", MailState.Sent, longAgo), CancellationToken.None);

        var retried = await queue.RetryAsync("ml-failed", CancellationToken.None);
        var sent = await queue.RetryAsync("ml-sent", CancellationToken.None);
        var unknown = await queue.RetryAsync("ml-nothing", CancellationToken.None);
        var audited = await new LiteDbAuditLog(_temp.Database).LastAsync(CancellationToken.None);

        retried.Value!.State.Should().Be(MailState.Queued);
        retried.Value.NextAttemptAt.Should().Be(_clock.GetUtcNow());
        retried.Value.RetryFrom.Should().Be(_clock.GetUtcNow(), "the 3-day window starts again");
        (await outbox.DueAsync(_clock.GetUtcNow(), 10, CancellationToken.None)).Should().ContainSingle().Which.Id.Should().Be("ml-failed");
        sent.Failure.Should().Be(new AdminFailure(AdminFailureKind.Conflict, "mail ml-sent is already sent"));
        unknown.Failure.Should().Be(new AdminFailure(AdminFailureKind.NotFound, "no mail 'ml-nothing' in the outbox"));
        audited!.Entry.Action.Should().Be("mail.retry");
        audited.Entry.Target.Should().Be("ml-failed");
    }

    [Theory]
    [InlineData("alice@example.internal", true)]
    [InlineData("Alice <alice@example.internal>", false)]
    [InlineData("alice@example.internal, bob@example.internal", false)]
    [InlineData("alice@example.internal\r\nBcc: eve@example.org", false)]
    [InlineData("not an address", false)]
    [InlineData("", false)]
    public void IsAddress_AcceptsOnePlainAddressOnly(string text, bool accepted) => Mailer.IsAddress(text).Should().Be(accepted);

    public void Dispose() => _temp?.Dispose();

    private Mailer Queue(Dictionary<string, string?>? settings = null) => TestMail.Mailer(_temp!, _clock, settings);

    private static OutboxMail Mail(string id, MailState state, DateTimeOffset due) => new(
        id, id + "@example.internal", "test", "alice@example.internal", "en", "Subject", "Text", "<p>Text</p>", due, due, state, 0, due, null, null, null);
}
