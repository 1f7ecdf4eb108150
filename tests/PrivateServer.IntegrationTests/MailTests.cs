using MimeKit;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>Mail through a real smarthost (aiosmtpd): the outbox keeps every mail until the smarthost took it, exactly once.</summary>
public sealed class MailTests
{
    private const string Recipient = "alice@example.internal";

    [Fact]
    public async Task TestMail_WhileTheSmarthostIsDown_WaitsInTheOutboxWithTheReason_AndArrivesExactlyOnceWhenItIsBack()
    {
        using var deadline = TestDeadline.Start();
        await using var smarthost = await SmtpSink.CreateAsync(deadline.Token, start: false);
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token, smarthost.ApplianceSettings());

        var queued = await SupportRig.MustAsync(appliance.CliAsync(deadline.Token, "mail", "test", "--to", Recipient));
        var id = queued.Stdout.Trim();
        var waiting = await WaitForQueueLineAsync(appliance, id, "connection refused", deadline.Token);
        await smarthost.StartAsync(deadline.Token);
        var arrived = await smarthost.WaitForMessagesAsync(1, deadline.Token);
        var sent = await WaitForQueueLineAsync(appliance, id, "\tsent\t", deadline.Token, all: true);
        await Task.Delay(3000, deadline.Token);
        var german = await SupportRig.MustAsync(appliance.CliAsync(deadline.Token, "mail", "test", "--to", "bob@example.internal", "--language", "de"));
        var both = await smarthost.WaitForMessagesAsync(2, deadline.Token);

        id.Should().MatchRegex("^ml-[0-9a-f]{12}$");
        waiting.Should().Contain("\tqueued\t").And.Contain(Recipient).And.Contain($"cannot reach the smarthost 127.0.0.1:{smarthost.Port}");
        arrived.Should().ContainSingle();
        var mail = both[0];
        mail.To.Mailboxes.Should().ContainSingle().Which.Address.Should().Be(Recipient);
        mail.From.Mailboxes.Should().ContainSingle().Which.Address.Should().Be("support@rs.example.internal");
        mail.Subject.Should().Be("PrivateServer: test mail");
        mail.MessageId.Should().StartWith(id + ".").And.EndWith("@rs.example.internal");
        mail.Body!.Headers[HeaderId.ContentLanguage].Should().Be("en");
        mail.TextBody.Should().Contain($"PrivateServer at https://rs.example.internal:{appliance.Port}/ can send mail");
        mail.HtmlBody.Should().Contain("<p>This test mail shows").And.NotContain("<img").And.NotContainAny("http://", "src=");
        sent.Should().Contain("\tsent\t");
        both.Should().HaveCount(2, "the first mail arrived once, however often the sender looked at the outbox after that");
        both[1].MessageId.Should().StartWith(german.Stdout.Trim() + ".");
        both[1].Subject.Should().Be("PrivateServer: Testmail");
        both[1].Body!.Headers[HeaderId.ContentLanguage].Should().Be("de");
        both[1].TextBody.Should().Contain("Diese Testmail zeigt, dass PrivateServer");
    }

    [Fact]
    public async Task QueuedMail_WhenTheApplianceIsKilled_IsDeliveredExactlyOnceAfterTheRestart()
    {
        using var deadline = TestDeadline.Start();
        await using var smarthost = await SmtpSink.CreateAsync(deadline.Token, start: false);
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token, smarthost.ApplianceSettings());
        var id = (await SupportRig.MustAsync(appliance.CliAsync(deadline.Token, "mail", "test", "--to", Recipient))).Stdout.Trim();
        await WaitForQueueLineAsync(appliance, id, "connection refused", deadline.Token);

        await appliance.KillAsync();
        var offline = await SupportRig.MustAsync(appliance.CliAsync(deadline.Token, "mail", "queue"));
        await smarthost.StartAsync(deadline.Token);
        await appliance.RunAsync(deadline.Token);
        var arrived = await smarthost.WaitForMessagesAsync(1, deadline.Token);
        await WaitForQueueLineAsync(appliance, id, "\tsent\t", deadline.Token, all: true);
        await Task.Delay(3000, deadline.Token);

        offline.Stdout.Should().Contain(id + "\tqueued\t", "the killed appliance's outbox is read from the database directly");
        smarthost.Messages().Should().ContainSingle().Which.MessageId.Should().StartWith(id + ".");
        arrived.Should().ContainSingle();
    }

    [Theory]
    [InlineData(SmtpMode.StartTls)]
    [InlineData(SmtpMode.Tls)]
    public async Task Mail_OverTlsWithACompanyCaCertificate_IsRefusedWhileThatCaIsNotTrusted_AndDeliveredOnceItIs(SmtpMode mode)
    {
        using var deadline = TestDeadline.Start();
        await using var smarthost = await SmtpSink.CreateSecuredAsync(mode, SmtpSink.Password, deadline.Token);
        var settings = smarthost.ApplianceSettings();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token, settings);

        var id = (await SupportRig.MustAsync(appliance.CliAsync(deadline.Token, "mail", "test", "--to", Recipient))).Stdout.Trim();
        var untrusted = await WaitForQueueLineAsync(appliance, id, "not trusted", deadline.Token);
        await appliance.StopAsync(deadline.Token);
        settings["PRIVATESERVER__Mail__Trust"] = "File";
        settings["PRIVATESERVER__Mail__CaFile"] = smarthost.CaFile;
        await appliance.RunAsync(deadline.Token);
        var arrived = await smarthost.WaitForMessagesAsync(1, deadline.Token);
        await WaitForQueueLineAsync(appliance, id, "\tsent\t", deadline.Token, all: true);

        untrusted.Should().Contain("\tqueued\t").And.Contain($"TLS with the smarthost 127.0.0.1:{smarthost.Port} failed: its certificate is not trusted (System)");
        arrived.Should().ContainSingle().Which.MessageId.Should().StartWith(id + ".");
        smarthost.Messages().Should().ContainSingle();
    }

    [Fact]
    public async Task WrongSmarthostCredentials_AreAVisibleFailure_TheMailIsKept_AndGoesOutOnceThePasswordIsFixed()
    {
        using var deadline = TestDeadline.Start();
        await using var smarthost = await SmtpSink.CreateSecuredAsync(SmtpMode.StartTls, "not-the-password", deadline.Token);
        var settings = smarthost.ApplianceSettings();
        settings["PRIVATESERVER__Mail__Trust"] = "File";
        settings["PRIVATESERVER__Mail__CaFile"] = smarthost.CaFile;
        settings["PRIVATESERVER__Mail__RetryDelay"] = "00:10:00";
        settings["PRIVATESERVER__Mail__MaximumRetryDelay"] = "01:00:00";
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token, settings);

        var id = (await SupportRig.MustAsync(appliance.CliAsync(deadline.Token, "mail", "test", "--to", Recipient))).Stdout.Trim();
        var refused = await WaitForQueueLineAsync(appliance, id, "refused the credentials", deadline.Token);
        await File.WriteAllTextAsync(smarthost.PasswordFile, SmtpSink.Password + "\n", deadline.Token);
        var unknown = await appliance.CliAsync(deadline.Token, "mail", "retry", "ml-000000000000");
        var retried = await SupportRig.MustAsync(appliance.CliAsync(deadline.Token, "mail", "retry", id));
        var arrived = await smarthost.WaitForMessagesAsync(1, deadline.Token);
        await WaitForQueueLineAsync(appliance, id, "\tsent\t", deadline.Token, all: true);
        var again = await appliance.CliAsync(deadline.Token, "mail", "retry", id);
        var badAddress = await appliance.CliAsync(deadline.Token, "mail", "test", "--to", "alice@example.internal, mallory@example.org");

        refused.Should().Contain("\tqueued\t").And.Contain($"the smarthost 127.0.0.1:{smarthost.Port} refused the credentials of 'mailer'");
        smarthost.Messages().Should().ContainSingle().Which.MessageId.Should().StartWith(id + ".");
        arrived.Should().ContainSingle();
        retried.Stderr.Should().Contain($"Mail {id} to {Recipient} is queued for an attempt now.");
        unknown.ExitCode.Should().Be(1);
        unknown.StderrLines.Should().ContainSingle().Which.Should().Be("privateserver: no mail 'ml-000000000000' in the outbox");
        again.ExitCode.Should().Be(1);
        again.StderrLines.Should().ContainSingle().Which.Should().Be($"privateserver: mail {id} is already sent");
        badAddress.ExitCode.Should().Be(1);
        badAddress.StderrLines.Should().ContainSingle().Which.Should().Be("privateserver: 'alice@example.internal, mallory@example.org' is not a mail address");
    }

    [Fact]
    public async Task AdminMailPage_SaysWhyMailWaits_ShowsTheLastDeliveryError_AndSendsAgainOnTheAdminsWord()
    {
        using var deadline = TestDeadline.Start();
        await using var unconfigured = await ApplianceProcess.StartAsync(deadline.Token);
        await using var smarthost = await SmtpSink.CreateAsync(deadline.Token, start: false);
        var settings = smarthost.ApplianceSettings();
        settings["PRIVATESERVER__Mail__RetryDelay"] = "00:10:00";
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token, settings);
        await using var browser = await WebBrowser.StartAsync();
        await using var first = await browser.NewSessionAsync(unconfigured, "de");
        await first.SignInAsync("admin", unconfigured.AdminPassword);
        await first.Page.GotoAsync("/admin/mail");
        var blocked = await first.Page.TextContentAsync("#mail-blocked");
        await using var admin = await browser.NewSessionAsync(appliance);
        await admin.SignInAsync("admin", appliance.AdminPassword);

        await admin.Page.GotoAsync("/admin/mail");
        await admin.Page.FillAsync("#mail-test-to", Recipient);
        await admin.Page.SelectOptionAsync("#mail-test-language", "en");
        var queued = await admin.SubmitAsync("#mail-test button[type=submit]");
        var id = (await admin.Page.GetAttributeAsync("#outbox tr[data-mail]", "data-mail"))!;
        await WaitForQueueLineAsync(appliance, id, "connection refused", deadline.Token);
        await admin.Page.GotoAsync("/admin/mail");
        var lastError = await admin.Page.TextContentAsync("#mail-last-error");
        var row = await admin.Page.Locator($"#outbox tr[data-mail={id}]").InnerTextAsync();
        await smarthost.StartAsync(deadline.Token);
        var retried = await admin.SubmitAsync($"#outbox tr[data-mail={id}] button[type=submit]");
        await smarthost.WaitForMessagesAsync(1, deadline.Token);
        await WaitForQueueLineAsync(appliance, id, "\tsent\t", deadline.Token, all: true);
        await admin.Page.GotoAsync("/admin/mail");
        var state = await admin.Page.GetAttributeAsync($"#outbox tr[data-mail={id}]", "data-state");

        blocked.Should().Be("Mail kann nicht versendet werden: no smarthost is configured (Mail:Host). Sie wartet im Postausgang und geht hinaus, sobald der Smarthost eingerichtet ist.");
        queued.Should().Be($"A test mail to {Recipient} is in the outbox.");
        lastError.Should().Contain($"cannot reach the smarthost 127.0.0.1:{smarthost.Port}");
        row.Should().Contain("waiting").And.Contain(Recipient).And.Contain("PrivateServer: test mail");
        retried.Should().Be($"Mail {id} goes out again now.");
        state.Should().Be("sent");
        smarthost.Messages().Should().ContainSingle();
        admin.ForeignRequests.Should().BeEmpty();
        admin.Problems.Should().BeEmpty();
        first.Problems.Should().BeEmpty();
    }

    [Fact]
    public async Task SmarthostSetInTheAdminCenter_WithStartTlsACompanyCaAndAPassword_DeliversAtOnce_AndTheFilesSettingsCanComeBack()
    {
        using var deadline = TestDeadline.Start();
        await using var smarthost = await SmtpSink.CreateSecuredAsync(SmtpMode.StartTls, "unused", deadline.Token);
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        await using var browser = await WebBrowser.StartAsync();
        await using var admin = await browser.NewSessionAsync(appliance);
        await admin.SignInAsync("admin", appliance.AdminPassword);

        await admin.Page.GotoAsync("/admin/mail");
        await admin.Page.FillAsync("#mail-host", "127.0.0.1");
        await admin.Page.FillAsync("#mail-port", smarthost.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await admin.Page.SelectOptionAsync("#mail-security", "StartTls");
        await admin.Page.FillAsync("#mail-user", "mailer");
        await admin.Page.FillAsync("#mail-password", SmtpSink.Password);
        await admin.Page.FillAsync("#mail-from", "PrivateServer <support@rs.example.internal>");
        await admin.Page.SelectOptionAsync("#mail-trust", "File");
        await admin.Page.FillAsync("#mail-ca", await File.ReadAllTextAsync(smarthost.CaFile, deadline.Token));
        var saved = await admin.SubmitAsync("#mail-settings button[type=submit]");
        var source = await admin.Page.TextContentAsync("#mail-source");
        var passwordShown = await admin.Page.InputValueAsync("#mail-password");
        var id = (await SupportRig.MustAsync(appliance.CliAsync(deadline.Token, "mail", "test", "--to", Recipient))).Stdout.Trim();
        var arrived = await smarthost.WaitForMessagesAsync(1, deadline.Token);
        await WaitForQueueLineAsync(appliance, id, "\tsent\t", deadline.Token, all: true);
        await admin.Page.GotoAsync("/admin/mail");
        await admin.Page.ClickAsync("#mail-reset button[type=submit]");
        var blocked = await admin.Page.TextContentAsync("#mail-blocked");
        await admin.Page.FillAsync("#mail-host", "127.0.0.1");
        await admin.Page.FillAsync("#mail-from", "not a sender");
        var refused = await admin.SubmitRefusedAsync("#mail-settings button[type=submit]");
        var audit = await SupportRig.MustAsync(appliance.CliAsync(deadline.Token, "audit", "export", "--format", "csv", "--out", appliance.DataDirectory + "-audit.csv"));
        var trail = await File.ReadAllTextAsync(appliance.DataDirectory + "-audit.csv", deadline.Token);

        saved.Should().Be("The smarthost 127.0.0.1 is set; the next attempt uses it.");
        source.Should().StartWith("These settings were set here in the admin center");
        passwordShown.Should().BeEmpty("the stored password is never sent back to the browser");
        arrived.Should().ContainSingle().Which.MessageId.Should().StartWith(id + ".");
        blocked.Should().Contain("no smarthost is configured (Mail:Host)");
        refused.Should().Be("'not a sender' is not a sender address");
        trail.Should().Contain(",settings.mail-changed,127.0.0.1,").And.Contain("\"\"password\"\":\"\"changed\"\"", "the change is audited").And.NotContain(SmtpSink.Password);
        trail.Should().Contain(",settings.mail-reset,");
        admin.ForeignRequests.Should().BeEmpty();
    }

    /// <summary>Polls <c>mail queue</c> until the mail's line contains <paramref name="text"/> (case-insensitive; 30 s at most) and returns the line.</summary>
    private static async Task<string> WaitForQueueLineAsync(ApplianceProcess appliance, string id, string text, CancellationToken cancellationToken, bool all = false)
    {
        var line = string.Empty;
        for (var i = 0; i < 150; i++)
        {
            var queue = await SupportRig.MustAsync(all ? appliance.CliAsync(cancellationToken, "mail", "queue", "--all") : appliance.CliAsync(cancellationToken, "mail", "queue"));
            line = queue.Stdout.Split('\n').FirstOrDefault(l => l.StartsWith(id + "\t", StringComparison.Ordinal)) ?? string.Empty;
            if (line.Contains(text, StringComparison.OrdinalIgnoreCase))
            {
                return line;
            }

            await Task.Delay(200, cancellationToken);
        }

        throw new TimeoutException($"mail {id} never showed '{text}' in 'mail queue'; last: {line}");
    }
}
