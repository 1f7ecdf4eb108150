using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Mail;
using PrivateServer.Server.Storage;
using PrivateServer.Server.Tls;
using PrivateServer.Server.Tls.Acme;

namespace PrivateServer.Server.Tests.Tls;

/// <summary>Background renewal of an ACME certificate: due at two thirds of its lifetime; a failure reaches the admins once a day.</summary>
public sealed class AcmeRenewalTests : IAsyncLifetime, IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private TempDatabase? _temp;

    public async Task InitializeAsync()
    {
        _temp = await TempDatabase.OpenAsync();
        var users = new LiteDbUserStore(_temp.Database);
        var admin = (await users.ListAsync(CancellationToken.None)).Single(u => u.Role == Role.Admin);
        await users.UpdateAsync(admin with { Email = "admin@example.internal" }, CancellationToken.None);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [InlineData(59, false)]
    [InlineData(60, true)]
    [InlineData(89, true)]
    public void IsDue_AtTwoThirdsOfTheLifetime(int day, bool due)
    {
        var start = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

        AcmeRenewal.IsDue(start, start.AddDays(90), start.AddDays(day)).Should().Be(due);
    }

    [Fact]
    public async Task Renewal_ThatFails_KeepsTheCertificate_RecordsWhy_AndMailsTheAdminsOnceADay()
    {
        var folder = _temp!.Folder;
        await File.WriteAllTextAsync(folder.ServerCertificateSourcePath, ServerCertificateSource.Acme + "\n");
        Directory.CreateDirectory(Path.Combine(folder.Root, "acme"));
        await File.WriteAllTextAsync(
            Path.Combine(folder.Root, "acme", "state.json"),
            JsonSerializer.Serialize(new AcmeState("https://127.0.0.1:1/dir", null, null, null, null, null, null), Json));
        using var current = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(folder.ServerCertificatePath));
        var start = new DateTimeOffset(current.NotBefore.ToUniversalTime());
        var clock = new ManualClock(start + ((new DateTimeOffset(current.NotAfter.ToUniversalTime()) - start) / 2));

        var early = await Renewal(clock).CheckAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromDays(100));
        var failed = await Renewal(clock).CheckAsync(CancellationToken.None);
        var again = await Renewal(clock).CheckAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromDays(1));
        var nextDay = await Renewal(clock).CheckAsync(CancellationToken.None);
        var mails = await new LiteDbOutbox(_temp.Database).ListAsync(includeSent: true, 10, CancellationToken.None);
        var state = Acme(clock).State;

        (early, failed, again, nextDay).Should().Be((null, false, false, false));
        mails.Should().HaveCount(2, "one mail a day");
        mails.Should().AllSatisfy(m => m.To.Should().Be("admin@example.internal"));
        mails[0].Subject.Should().Be("PrivateServer: renewing the server certificate failed");
        mails[0].Text.Should().Contain("https://127.0.0.1:1/dir did not renew the server certificate: ACME: reading the ACME directory failed: cannot reach");
        state!.LastError.Should().StartWith("ACME: reading the ACME directory failed");
        (await File.ReadAllTextAsync(folder.ServerCertificatePath)).Should().Contain(current.ExportCertificatePem().Split('\n')[1], "the current certificate stays");
    }

    public void Dispose() => _temp?.Dispose();

    private CertificateAdministration Certificates(ManualClock clock) =>
        new(_temp!.Folder, TestAudit.Trail(_temp.Database, clock), clock, NullLogger<CertificateAdministration>.Instance);

    private AcmeCertificates Acme(ManualClock clock) =>
        new(_temp!.Folder, Certificates(clock), Options.Create(new AcmeOptions { Http01Address = "127.0.0.1:9" }), clock, NullLogger<AcmeCertificates>.Instance);

    private AcmeRenewal Renewal(ManualClock clock) => new(
        Acme(clock), Certificates(clock), new LiteDbUserStore(_temp!.Database), new LiteDbOutbox(_temp.Database), TestMail.Mailer(_temp, clock),
        new StaticOptionsMonitor<MailOptions>(new MailOptions()), clock, NullLogger<AcmeRenewal>.Instance);
}
