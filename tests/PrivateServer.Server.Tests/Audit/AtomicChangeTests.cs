using Microsoft.Extensions.Logging.Abstractions;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Mail;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tests.Audit;

/// <summary>A change and the events recording it are one transaction in the real database: all of it, or nothing.</summary>
public sealed class AtomicChangeTests : IAsyncLifetime, IDisposable
{
    private TempDatabase _temp = null!;
    private LiteDbAuditLog _log = null!;
    private AuditTrail _trail = null!;

    public async Task InitializeAsync()
    {
        _temp = await TempDatabase.OpenAsync();
        _log = new LiteDbAuditLog(_temp.Database);
        _trail = new AuditTrail(_log, TimeProvider.System, NullLogger<AuditTrail>.Instance);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        _log.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public async Task AWriteThatFailsAfterTheEvents_LeavesNoEventNoLinkNoUser_AndTheChainGoesOnUnbroken()
    {
        var outbox = new LiteDbOutbox(_temp.Database);
        await outbox.AddAsync(Mail("ml-taken"), default);
        var before = (await _log.LastAsync(default))!.Sequence;
        var change = new AtomicChange();
        change.Audit.Add(_trail.Entry("admin", "user.added", "eve"));
        change.Audit.Add(_trail.Entry("admin", "user.invited", "eve"));
        change.NewUsers.Add(User("eve"));
        change.PasswordLinks.Add(Link("eve"));
        change.Mails.Add(Mail("ml-taken")); // its id exists: the last write of the change fails

        var failing = () => _trail.WriteAsync(change, default);

        await failing.Should().ThrowAsync<LiteDB.LiteException>();
        (await _log.LastAsync(default))!.Sequence.Should().Be(before, "the events were rolled back with the rest");
        (await new LiteDbUserStore(_temp.Database).FindAsync("eve", default)).Should().BeNull();
        (await new LiteDbPasswordLinkStore(_temp.Database).FindAsync("hash-eve", default)).Should().BeNull();
        await _trail.RecordAsync("admin", "after.rollback");
        var verified = await _trail.VerifyAsync(default);
        verified.Intact.Should().BeTrue("the next event chains to the last committed one, not to a rolled-back one");
        verified.Verified.Should().Be(before + 1);
    }

    [Fact]
    public async Task AUserThatExists_FailsTheWholeChange_AsAConflict()
    {
        await new LiteDbUserStore(_temp.Database).TryAddAsync(User("Bob"), default);
        var before = (await _log.LastAsync(default))!.Sequence;
        var change = new AtomicChange();
        change.Audit.Add(_trail.Entry("admin", "user.added", "bob"));
        change.NewUsers.Add(User("bob"));
        change.Mails.Add(Mail("ml-bob"));

        var conflicting = () => _trail.WriteAsync(change, default);

        await conflicting.Should().ThrowAsync<AtomicConflictException>().WithMessage("user 'bob' already exists");
        (await _log.LastAsync(default))!.Sequence.Should().Be(before);
        (await new LiteDbOutbox(_temp.Database).FindAsync("ml-bob", default)).Should().BeNull();
    }

    [Fact]
    public async Task AUserEdit_ChangesTheUserAsStored_SoAChangeMadeMeanwhileHolds()
    {
        var users = new LiteDbUserStore(_temp.Database);
        await users.TryAddAsync(User("carol"), default);
        var readEarlier = (await users.FindAsync("carol", default))!;
        await users.UpdateAsync(readEarlier with { Disabled = true }, default); // an admin disables her meanwhile
        var change = new AtomicChange();
        change.UserEdits.Add(new UserEdit("carol", stored => stored with { PasswordHash = "new-hash" }));
        change.Audit.Add(_trail.Entry("carol", "user.password-changed", "carol"));

        await _trail.WriteAsync(change, default);

        var now = (await users.FindAsync("carol", default))!;
        (now.PasswordHash, now.Disabled).Should().Be(("new-hash", true), "the password change does not enable the account again");
    }

    [Fact]
    public async Task ChangesAndPlainAppends_FromManyTasksAtOnce_KeepOneUnbrokenChain()
    {
        var before = (await _log.LastAsync(default))!.Sequence;
        var writes = Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
        {
            if (i % 2 == 0)
            {
                await _trail.RecordAsync("worker", "plain." + i);
                return;
            }

            var change = new AtomicChange();
            change.Audit.Add(_trail.Entry("worker", "change." + i));
            change.Mails.Add(Mail("ml-" + i));
            await _trail.WriteAsync(change, default);
        }));

        await Task.WhenAll(writes);
        var verified = await _trail.VerifyAsync(default);

        verified.Intact.Should().BeTrue();
        verified.Verified.Should().Be(before + 40);
        (await new LiteDbOutbox(_temp.Database).ListAsync(includeSent: true, 100, default)).Should().HaveCount(20);
    }

    private static User User(string name) => new(name, Role.Supporter, [], name + "@example.internal", "hash", false, DateTimeOffset.UtcNow);

    private static PasswordLink Link(string user) =>
        new("pl-" + user, "hash-" + user, user, PasswordLinkPurpose.Invitation, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(72), null);

    private static OutboxMail Mail(string id) =>
        new(id, id + "@rs.example.internal", "test", "someone@example.internal", "en", "Subject", "Text", "<p>Text</p>",
            DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, MailState.Queued, 0, DateTimeOffset.UtcNow, null, null, null);
}
