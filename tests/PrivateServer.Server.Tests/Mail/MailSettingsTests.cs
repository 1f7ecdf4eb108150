using PrivateServer.Server.Admin;
using PrivateServer.Server.Mail;

namespace PrivateServer.Server.Tests.Mail;

/// <summary>Smarthost settings from the admin center over the configuration file's, in the real database.</summary>
public sealed class MailSettingsTests : IAsyncLifetime, IDisposable
{
    private readonly ManualClock _clock = ManualClock.Monday();
    private TempDatabase? _temp;

    public async Task InitializeAsync() => _temp = await TempDatabase.OpenAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task AdminCenterSettings_ReplaceTheFilesAsAWhole_KeepThePasswordWhenLeftEmpty_SurviveARestart_AndCanBeDropped()
    {
        var configured = new MailOptions { Host = "file-relay.example.internal", From = "file@example.internal", RetryDelay = TimeSpan.FromSeconds(7) };
        var settings = TestMail.Settings(_temp!, _clock, configured);
        var fromFile = await settings.CurrentAsync(CancellationToken.None);

        var saved = await settings.UpdateAsync(
            new MailSettingsChange("relay.example.internal", 587, "StartTls", "mailer", "Secret-1", "PrivateServer <ps@example.internal>", "System", null), CancellationToken.None);
        var kept = await settings.UpdateAsync(
            new MailSettingsChange("relay.example.internal", 2525, "StartTls", "mailer", string.Empty, "ps@example.internal", "ApplianceCa", null), CancellationToken.None);
        _temp!.Reopen();
        var restarted = await TestMail.Settings(_temp, _clock, configured).CurrentAsync(CancellationToken.None);
        var again = TestMail.Settings(_temp, _clock, configured);
        await again.ResetAsync(CancellationToken.None);
        var dropped = await TestMail.Settings(_temp, _clock, configured).CurrentAsync(CancellationToken.None);

        fromFile.FromAdminCenter.Should().BeFalse();
        fromFile.Options.Host.Should().Be("file-relay.example.internal");
        saved.Failure.Should().BeNull();
        kept.Value!.Password.Should().Be("Secret-1", "an empty password field keeps the stored one");
        restarted.FromAdminCenter.Should().BeTrue();
        restarted.Options.Should().BeEquivalentTo(new { Host = "relay.example.internal", Port = 2525, Security = MailSecurity.StartTls, User = "mailer", Trust = MailTrust.ApplianceCa });
        restarted.Options.RetryDelay.Should().Be(TimeSpan.FromSeconds(7), "retry times always come from the file");
        restarted.Missing.Should().BeNull();
        dropped.FromAdminCenter.Should().BeFalse();
        dropped.Options.Host.Should().Be("file-relay.example.internal");
    }

    [Theory]
    [InlineData("", 25, "None", null, null, "ps@example.internal", "System", null, "the smarthost must be a host name or address")]
    [InlineData("relay", 70000, "None", null, null, "ps@example.internal", "System", null, "the port must be between 0 and 65535")]
    [InlineData("relay", 25, "Ssl", null, null, "ps@example.internal", "System", null, "use None, StartTls or Tls")]
    [InlineData("relay", 25, "None", null, null, "ps@example.internal", "Everyone", null, "use System, ApplianceCa or File")]
    [InlineData("relay", 25, "None", null, null, "not a sender", "System", null, "'not a sender' is not a sender address")]
    [InlineData("relay", 25, "None", "mailer", null, "ps@example.internal", "System", null, "give the SMTP password for the user")]
    [InlineData("relay", 25, "None", null, null, "ps@example.internal", "File", "not pem", "with trust File, paste or upload the CA certificates (PEM)")]
    public async Task BadSettings_AreRefusedWithOneLine_AndChangeNothing(
        string host, int port, string security, string? user, string? password, string from, string trust, string? pem, string refusal)
    {
        var settings = TestMail.Settings(_temp!, _clock);

        var outcome = await settings.UpdateAsync(new MailSettingsChange(host, port, security, user, password, from, trust, pem), CancellationToken.None);

        outcome.Failure.Should().Be(new AdminFailure(AdminFailureKind.Invalid, refusal));
        (await TestMail.Settings(_temp!, _clock).CurrentAsync(CancellationToken.None)).FromAdminCenter.Should().BeFalse();
    }

    [Fact]
    public void CountCertificates_RefusesGarbageAndBrokenPem() =>
        (MailSettings.CountCertificates(null), MailSettings.CountCertificates("garbage"),
            MailSettings.CountCertificates("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")).Should().Be((0, 0, 0));

    public void Dispose() => _temp?.Dispose();
}
