using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Mail;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tests.Auth;

/// <summary>Set-password links by mail: invitations (72 h) and resets (1 h), single use, in the real database.</summary>
public sealed partial class PasswordLinksTests : IAsyncLifetime, IDisposable
{
    private readonly ManualClock _clock = ManualClock.Monday();
    private readonly PasswordService _passwords = new();
    private TempDatabase? _temp;
    private PasswordLinks _links = null!;
    private LiteDbOutbox _outbox = null!;
    private LiteDbUserStore _users = null!;

    public async Task InitializeAsync()
    {
        _temp = await TempDatabase.OpenAsync();
        _outbox = new LiteDbOutbox(_temp.Database);
        _users = new LiteDbUserStore(_temp.Database);
        var audit = TestAudit.Trail(_temp.Database, _clock);
        var mailer = TestMail.Mailer(_temp, _clock, new Dictionary<string, string?> { ["Appliance:PublicUrl"] = "https://support.example.internal" });
        _links = new PasswordLinks(_users, new LiteDbPasswordLinkStore(_temp.Database), mailer, _passwords, audit, _clock, NullLogger<PasswordLinks>.Instance);
        await _users.TryAddAsync(new User("carol", Role.Supporter, [], "carol@example.internal", _passwords.Hash("Old-Password-2026"), false, _clock.GetUtcNow()), CancellationToken.None);
        await _users.TryAddAsync(new User("nomail", Role.Supporter, [], null, _passwords.Hash("Old-Password-2026"), false, _clock.GetUtcNow()), CancellationToken.None);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Invitation_MailsALinkThatSetsThePasswordOnce_AndOnlyWithin72Hours()
    {
        var mail = await _links.InviteAsync((await _users.FindAsync("carol", CancellationToken.None))!, "de", CancellationToken.None);
        var token = TokenIn(mail!);
        var expiring = TokenIn((await _links.InviteAsync((await _users.FindAsync("carol", CancellationToken.None))!, "en", CancellationToken.None))!);

        var replaced = await _links.CheckAsync(token, CancellationToken.None);
        _clock.Advance(TimeSpan.FromHours(71));
        var stillLive = await _links.CheckAsync(expiring, CancellationToken.None);
        var mismatch = await _links.SetPasswordAsync(expiring, "New-Password-2026", "New-Password-2O26", null, CancellationToken.None);
        var weak = await _links.SetPasswordAsync(expiring, "carol", "carol", null, CancellationToken.None);
        var set = await _links.SetPasswordAsync(expiring, "New-Password-2026", "New-Password-2026", "127.0.0.1", CancellationToken.None);
        var again = await _links.SetPasswordAsync(expiring, "Other-Password-2026", "Other-Password-2026", null, CancellationToken.None);
        var late = TokenIn((await _links.InviteAsync((await _users.FindAsync("carol", CancellationToken.None))!, "en", CancellationToken.None))!);
        _clock.Advance(TimeSpan.FromHours(73));
        var expired = await _links.SetPasswordAsync(late, "Late-Password-2026", "Late-Password-2026", null, CancellationToken.None);
        var carol = await _users.FindAsync("carol", CancellationToken.None);

        mail!.To.Should().Be("carol@example.internal");
        mail.Subject.Should().Be("Ihr Zugang zu PrivateServer");
        mail.Text.Should().Contain("Ihr Benutzername ist carol, Ihre Rolle Supporter").And.Contain("https://support.example.internal/password/set?token=");
        replaced.Should().BeNull("a newer invitation replaces the older link");
        stillLive.Should().Be("carol");
        mismatch.Should().Be(PasswordLinkOutcome.Mismatch);
        weak.Should().Be(PasswordLinkOutcome.Policy);
        set.Should().Be(PasswordLinkOutcome.Set, "a typo or a weak password leaves the link working");
        again.Should().Be(PasswordLinkOutcome.InvalidLink);
        expired.Should().Be(PasswordLinkOutcome.InvalidLink);
        _passwords.Verify(carol!.PasswordHash, "New-Password-2026").Should().NotBe(PasswordCheck.Invalid);
    }

    [Fact]
    public async Task Reset_ByNameOrAddress_MailsOnlyExistingEnabledAccountsWithAnAddress_AndItsLinkLastsOneHour()
    {
        await _links.RequestResetAsync("nobody", "en", "192.0.2.7", CancellationToken.None);
        await _links.RequestResetAsync("nomail", "en", "192.0.2.7", CancellationToken.None);
        await _links.RequestResetAsync("CAROL@example.internal", "en", "192.0.2.7", CancellationToken.None);
        var mails = await _outbox.ListAsync(includeSent: true, 10, CancellationToken.None);
        var token = TokenIn(mails.Single());
        _clock.Advance(TimeSpan.FromMinutes(59));
        var live = await _links.CheckAsync(token, CancellationToken.None);
        _clock.Advance(TimeSpan.FromMinutes(2));
        var expired = await _links.SetPasswordAsync(token, "New-Password-2026", "New-Password-2026", null, CancellationToken.None);

        mails.Should().ContainSingle().Which.Kind.Should().Be("password-reset");
        mails[0].To.Should().Be("carol@example.internal");
        mails[0].Text.Should().Contain("PrivateServer account carol (from the address 192.0.2.7)").And.Contain("works once and for one hour");
        live.Should().Be("carol");
        expired.Should().Be(PasswordLinkOutcome.InvalidLink);
    }

    [Fact]
    public async Task Reset_SendsOneMailPerAccountPerTenMinutes_AndNothingForASourceOverTenRequestsAnHour()
    {
        await _links.RequestResetAsync("carol", "en", "192.0.2.8", CancellationToken.None);
        await _links.RequestResetAsync("carol", "en", "192.0.2.9", CancellationToken.None);
        _clock.Advance(TimeSpan.FromMinutes(11));
        await _links.RequestResetAsync("carol", "en", "192.0.2.9", CancellationToken.None);
        for (var i = 0; i < 10; i++)
        {
            await _links.RequestResetAsync("nobody", "en", "198.51.100.1", CancellationToken.None);
        }

        _clock.Advance(TimeSpan.FromMinutes(11));
        await _links.RequestResetAsync("carol", "en", "198.51.100.1", CancellationToken.None);
        var mails = await _outbox.ListAsync(includeSent: true, 10, CancellationToken.None);
        var last = await new LiteDbAuditLog(_temp!.Database).LastAsync(CancellationToken.None);

        mails.Should().HaveCount(2, "the second request within 10 minutes sends nothing, the one after 11 minutes does, the 11th from one address nothing");
        last!.Entry.Action.Should().Be("password.reset-throttled");
        last.Entry.Source.Should().Be("198.51.100.1");
    }

    public void Dispose() => _temp?.Dispose();

    private static string TokenIn(OutboxMail mail) => TokenPattern().Match(mail.Text).Groups[1].Value;

    [GeneratedRegex(@"/password/set\?token=([A-Za-z0-9_-]{43})")]
    private static partial Regex TokenPattern();
}
