using Microsoft.Extensions.Logging.Abstractions;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Mail;
using PrivateServer.Server.Storage;
using PrivateServer.Server.Tls;

namespace PrivateServer.Server.Tests.Mail;

/// <summary>Expiry warnings for the appliance's real server certificate, with the clock moved towards its end.</summary>
public sealed class CertificateWarningsTests : IAsyncLifetime, IDisposable
{
    private TempDatabase? _temp;
    private ServerCertificateStore? _certificates;

    public async Task InitializeAsync()
    {
        _temp = await TempDatabase.OpenAsync();
        _certificates = ServerCertificateStore.Load(_temp.Folder, DateTimeOffset.UtcNow);
        var users = new LiteDbUserStore(_temp.Database);
        var admin = (await users.ListAsync(CancellationToken.None)).Single(u => u.Role == Role.Admin);
        await users.UpdateAsync(admin with { Email = "admin@example.internal" }, CancellationToken.None);
        var hash = admin.PasswordHash;
        await users.TryAddAsync(new User("old-admin", Role.Admin, [], "old@example.internal", hash, Disabled: true, DateTimeOffset.UtcNow), CancellationToken.None);
        await users.TryAddAsync(new User("sue", Role.Supporter, [], "sue@example.internal", hash, Disabled: false, DateTimeOffset.UtcNow), CancellationToken.None);
        await users.TryAddAsync(new User("second", Role.Admin, [], "second@example.internal", hash, Disabled: false, DateTimeOffset.UtcNow), CancellationToken.None);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Warnings_GoToEnabledAdminsOnceEachAt30_7And1DaysLeft_AlsoAcrossRestarts_AndForTheCaToo()
    {
        var end = new DateTimeOffset(_certificates!.Certificate.NotAfter.ToUniversalTime());
        var clock = new ManualClock(end.AddDays(-31));

        var early = await Warnings(clock).CheckAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromDays(1.5));
        var thirty = await Warnings(clock).CheckAsync(CancellationToken.None);
        var again = await Warnings(clock).CheckAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromDays(23));
        var seven = await Warnings(clock).CheckAsync(CancellationToken.None);
        _temp!.Reopen();
        var afterRestart = await Warnings(clock).CheckAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromDays(5.8));
        var one = await Warnings(clock).CheckAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromDays(3));
        var expired = await Warnings(clock).CheckAsync(CancellationToken.None);
        clock.Advance(new DateTimeOffset(_certificates.CaCertificate.NotAfter.ToUniversalTime()) - clock.GetUtcNow() - TimeSpan.FromDays(19.5));
        var ca = await Warnings(clock).CheckAsync(CancellationToken.None);
        var mails = await new LiteDbOutbox(_temp.Database).ListAsync(includeSent: true, 20, CancellationToken.None);

        (early, thirty, again, seven, afterRestart, one, expired, ca).Should().Be((0, 2, 0, 2, 0, 2, 0, 2));
        mails.Select(m => m.To).Distinct().Should().BeEquivalentTo(["admin@example.internal", "second@example.internal"]);
        mails.Select(m => m.Subject).Distinct().Should().BeEquivalentTo([
            "PrivateServer: the server certificate expires in 30 days",
            "PrivateServer: the server certificate expires in 7 days",
            "PrivateServer: the server certificate expires within a day",
            "PrivateServer: the appliance CA expires in 20 days"]);
        mails.Where(m => m.Subject.Contains("server certificate", StringComparison.Ordinal)).Should().AllSatisfy(m => m.Text.Should().Contain("Installed hosts are not affected"));
        mails.Where(m => m.Subject.Contains("appliance CA", StringComparison.Ordinal)).Should().AllSatisfy(m => m.Text.Should().Contain("hosts can no longer connect"));
    }

    public void Dispose()
    {
        _certificates?.Dispose();
        _temp?.Dispose();
    }

    private CertificateWarnings Warnings(ManualClock clock)
    {
        var outbox = new LiteDbOutbox(_temp!.Database);
        var mailer = TestMail.Mailer(_temp, clock);
        return new CertificateWarnings(
            _certificates!, new LiteDbUserStore(_temp.Database), outbox, mailer, new StaticOptionsMonitor<MailOptions>(new MailOptions()), clock,
            NullLogger<CertificateWarnings>.Instance);
    }
}
