using System.Text.RegularExpressions;
using MimeKit;
using PrivateServer.Certs.Authority;
using PrivateServer.Certs.Issuance;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>Invitations and password resets by mail, through the real smarthost and a real browser: each link works once.</summary>
public sealed partial class AccountMailTests
{
    [Fact]
    public async Task Invitation_InGerman_LetsTheNewUserChooseAPasswordOnce_ThenTheLinkNoLongerWorks()
    {
        using var deadline = TestDeadline.Start();
        await using var smarthost = await SmtpSink.CreateAsync(deadline.Token);
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token, smarthost.ApplianceSettings());
        var added = await SupportRig.MustAsync(appliance.CliAsync(
            deadline.Token, "user", "add", "carol", "--role", "supporter", "--email", "carol@example.internal", "--invite", "--language", "de"));
        var mail = (await smarthost.WaitForMessagesAsync(1, deadline.Token))[0];
        var link = Link(mail);
        await using var browser = await WebBrowser.StartAsync();
        await using var carol = await browser.NewSessionAsync(appliance, "de");

        await carol.Page.GotoAsync(link.PathAndQuery);
        var account = await carol.Page.TextContentAsync("main p");
        await carol.Page.FillAsync("#new-password", "Carols-Password-2026");
        await carol.Page.FillAsync("#repeat-password", "Carols-Password-2O26");
        await carol.Page.ClickAsync("#set-password button[type=submit]");
        var mismatch = await carol.Page.TextContentAsync("#password-problem");
        await carol.Page.FillAsync("#new-password", "Carols-Password-2026");
        await carol.Page.FillAsync("#repeat-password", "Carols-Password-2026");
        await carol.Page.ClickAsync("#set-password button[type=submit]");
        var done = await carol.Page.TextContentAsync("#password-set");
        await carol.SignInAsync("carol", "Carols-Password-2026");
        var signedIn = carol.Page.Url;
        await carol.Page.GotoAsync(link.PathAndQuery);
        var reused = await carol.Page.TextContentAsync("#link-invalid");
        await using var admin = await browser.NewSessionAsync(appliance);
        await admin.SignInAsync("admin", appliance.AdminPassword);
        await admin.Page.GotoAsync("/admin/users");
        await admin.Page.FillAsync("#new-name", "erin");
        await admin.Page.FillAsync("#new-email", "erin@example.internal");
        await admin.Page.CheckAsync("#new-invite");
        var invited = await admin.SubmitAsync("#add-user button[type=submit]");
        var shownSecret = await admin.Page.Locator("#admin-secret").CountAsync();
        var erinsMail = (await smarthost.WaitForMessagesAsync(2, deadline.Token))[1];
        await SupportRig.MustAsync(appliance.CliAsync(deadline.Token, "audit", "export", "--format", "csv", "--out", appliance.DataDirectory + "-audit.csv"));
        var events = await File.ReadAllTextAsync(appliance.DataDirectory + "-audit.csv", deadline.Token);

        added.Stdout.Should().MatchRegex("^ml-[0-9a-f]{12}\n$", "an invited user's password is never shown: the mail's id is printed instead");
        mail.To.Mailboxes.Should().ContainSingle().Which.Address.Should().Be("carol@example.internal");
        mail.Subject.Should().Be("Ihr Zugang zu PrivateServer");
        mail.TextBody.Should().Contain("Ihr Benutzername ist carol, Ihre Rolle Supporter").And.Contain("(72 Stunden)");
        link.GetLeftPart(UriPartial.Authority).Should().Be($"https://rs.example.internal:{appliance.Port}", "links use the appliance's public name");
        account.Should().Be("Zugang: carol");
        mismatch.Should().Be("Die neuen Passwörter stimmen nicht überein.");
        done.Should().Be("Das Passwort für carol ist festgelegt. Sie können sich jetzt anmelden.");
        signedIn.Should().NotContain("/login");
        reused.Should().StartWith("Dieser Link funktioniert nicht (mehr)");
        events.Should().Contain(",user.invited,carol,").And.Contain(",user.password-set,carol,");
        invited.Should().Be("An invitation for erin is in the outbox.");
        shownSecret.Should().Be(0, "an invited user's password is chosen by the user, never shown");
        erinsMail.To.Mailboxes.Should().ContainSingle().Which.Address.Should().Be("erin@example.internal");
        erinsMail.Subject.Should().Be("Your PrivateServer account", "the admin's page was English");
        carol.ForeignRequests.Should().BeEmpty();
        admin.Problems.Should().BeEmpty();
    }

    [Fact]
    public async Task PasswordReset_AnswersAlikeForUnknownAccounts_MailsOnlyTheRealOne_AndItsLinkWorksOnce()
    {
        using var deadline = TestDeadline.Start();
        await using var smarthost = await SmtpSink.CreateAsync(deadline.Token);
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token, smarthost.ApplianceSettings());
        var passwordFile = appliance.DataDirectory + "-dave.pw";
        await File.WriteAllTextAsync(passwordFile, "Daves-Old-Password-1\n", deadline.Token);
        await SupportRig.MustAsync(appliance.CliAsync(
            deadline.Token, "user", "add", "dave", "--role", "auditor", "--email", "dave@example.internal", "--password-file", passwordFile));
        await using var browser = await WebBrowser.StartAsync();
        await using var dave = await browser.NewSessionAsync(appliance);

        await dave.Page.GotoAsync("/login");
        await dave.Page.ClickAsync("#forgot-link");
        await dave.Page.FillAsync("#forgot-account", "nobody");
        await dave.Page.ClickAsync("#forgot button[type=submit]");
        var unknown = await dave.Page.TextContentAsync("#forgot-sent");
        await dave.Page.GotoAsync("/password/forgot");
        await dave.Page.FillAsync("#forgot-account", "dave@example.internal");
        await dave.Page.ClickAsync("#forgot button[type=submit]");
        var known = await dave.Page.TextContentAsync("#forgot-sent");
        var mail = (await smarthost.WaitForMessagesAsync(1, deadline.Token))[0];
        var link = Link(mail);
        await dave.Page.GotoAsync(link.PathAndQuery);
        await dave.Page.FillAsync("#new-password", "Daves-New-Password-2");
        await dave.Page.FillAsync("#repeat-password", "Daves-New-Password-2");
        await dave.Page.ClickAsync("#set-password button[type=submit]");
        var done = await dave.Page.TextContentAsync("#password-set");
        await dave.Page.GotoAsync(link.PathAndQuery);
        var reused = await dave.Page.TextContentAsync("#link-invalid");
        using var client = appliance.CreateClient();
        using var oldPassword = await WebLogin.PostAsync(client, "dave", "Daves-Old-Password-1", deadline.Token);
        using var newPassword = await WebLogin.PostAsync(client, "dave", "Daves-New-Password-2", deadline.Token);
        await Task.Delay(1000, deadline.Token);

        unknown.Should().Be(known, "the answer never tells whether an account exists");
        smarthost.Messages().Should().ContainSingle("only the existing account got a mail");
        mail.To.Mailboxes.Should().ContainSingle().Which.Address.Should().Be("dave@example.internal");
        mail.Subject.Should().Be("Setting a new PrivateServer password");
        mail.TextBody.Should().Contain("PrivateServer account dave").And.Contain("works once and for one hour");
        done.Should().Be("The password of dave is set. You can sign in now.");
        reused.Should().StartWith("This link does not work (any more)");
        oldPassword.StatusCode.Should().Be(System.Net.HttpStatusCode.Unauthorized);
        newPassword.StatusCode.Should().Be(System.Net.HttpStatusCode.Redirect);
        dave.ForeignRequests.Should().BeEmpty();
    }

    [Fact]
    public async Task AdHocCode_MailedInGerman_CarriesTheCodeTheJoinCommandAndTheTerms_AndABadAddressCreatesNoCode()
    {
        using var deadline = TestDeadline.Start();
        await using var smarthost = await SmtpSink.CreateAsync(deadline.Token);
        await using var rig = await SupportRig.StartAsync(deadline.Token, environment: smarthost.ApplianceSettings());

        var created = await SupportRig.MustAsync(ChildProcess.RunAsync(
            Programs.Supporter, ["code", "--state", rig.SupporterState, "--email", "kunde@example.internal", "--language", "de"], deadline.Token));
        var code = created.Stdout.Trim();
        var mail = (await smarthost.WaitForMessagesAsync(1, deadline.Token))[0];
        var refused = await ChildProcess.RunAsync(Programs.Supporter, ["code", "--state", rig.SupporterState, "--email", "kunde at example"], deadline.Token);
        await using var browser = await WebBrowser.StartAsync();
        await using var alice = await browser.NewSessionAsync(rig.Appliance);
        await alice.SignInAsync(SupportRig.Supporter, SupportRig.SupporterPassword);
        await alice.Page.GotoAsync("/console");
        await alice.Page.FillAsync("#code-email", "customer@example.internal");
        await alice.Page.SelectOptionAsync("#code-language", "en");
        await alice.Page.ClickAsync("#create-code");
        var mailedNote = await alice.Page.TextContentAsync("#code-mailed");
        var shownCode = (await alice.Page.TextContentAsync("#session-code"))!.Trim();
        var webMail = (await smarthost.WaitForMessagesAsync(2, deadline.Token))[1];
        await alice.Page.ClickAsync("#end-session");
        await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "audit", "export", "--format", "csv", "--out", rig.Root + "/audit.csv"));
        var trail = await File.ReadAllTextAsync(rig.Root + "/audit.csv", deadline.Token);

        code.Should().MatchRegex("^[0-9]{8}$");
        created.Stderr.Should().Contain("The code is mailed to kunde@example.internal (mail ml-");
        mail.To.Mailboxes.Should().ContainSingle().Which.Address.Should().Be("kunde@example.internal");
        mail.Subject.Should().Be("Fernwartung: Ihr Sitzungscode");
        mail.TextBody.Should().Contain($"{code[..4]} {code[4..]}")
            .And.Contain($"privateserver-host join --server https://rs.example.internal:{rig.Appliance.Port} --code {code} --ca-fingerprint {rig.Fingerprint}")
            .And.Contain("Der oben genannte Supporter sieht Ihren Bildschirm", "the German support terms are in the mail")
            .And.Contain("alice von Ihrem IT-Support");
        mail.HtmlBody.Should().NotContain("<img");
        refused.ExitCode.Should().Be(1);
        refused.StderrLines.Should().ContainSingle().Which.Should().EndWith("'kunde at example' is not a mail address");
        mailedNote.Should().Be("The code, the command to join and the support terms are mailed to customer@example.internal.");
        webMail.To.Mailboxes.Should().ContainSingle().Which.Address.Should().Be("customer@example.internal");
        webMail.Subject.Should().Be("Remote support: your session code");
        webMail.TextBody.Should().Contain(shownCode).And.Contain("The supporter named above will see your screen");
        trail.Split('\n').Count(l => l.Contains(",code.created,", StringComparison.Ordinal)).Should().Be(2, "a bad address creates no code");
        trail.Should().Contain(",code.mailed,kunde@example.internal,").And.Contain(",code.mailed,customer@example.internal,");
        smarthost.Messages().Should().HaveCount(2);
        alice.ForeignRequests.Should().BeEmpty();
    }

    [Fact]
    public async Task SessionProtocol_WhenASessionEnds_GoesToTheSupporterAndTheAuditMailbox_InTheConfiguredLanguage()
    {
        using var deadline = TestDeadline.Start();
        await using var smarthost = await SmtpSink.CreateAsync(deadline.Token);
        var settings = smarthost.ApplianceSettings();
        settings["PRIVATESERVER__Mail__AuditMailbox"] = "audit@example.internal";
        settings["PRIVATESERVER__Mail__Language"] = "de";
        await using var rig = await SupportRig.StartAsync(deadline.Token, environment: settings);
        var passwordFile = Path.Combine(rig.Root, "bob.pw");
        await File.WriteAllTextAsync(passwordFile, "Bob-Password-2026-x\n", deadline.Token);
        await SupportRig.MustAsync(rig.Appliance.CliAsync(
            deadline.Token, "user", "add", "bob", "--role", "supporter", "--group", SupportRig.Group, "--email", "bob@example.internal", "--password-file", passwordFile));
        var bobState = Path.Combine(rig.Root, "supporter-bob");
        await SupportRig.MustAsync(rig.LoginAsync("bob", "Bob-Password-2026-x", bobState, deadline.Token));
        await using var echo = EchoServer.Start();
        var host = await rig.StartHostAsync(await rig.EnrollHostAsync("pc7", deadline.Token), deadline.Token, "--service", $"echo=127.0.0.1:{echo.Port}");

        var bob = rig.Track(ChildProcess.Start(Programs.Supporter, ["connect", "pc7", "--state", bobState, "--forward", "echo=0", "--view-only"]));
        await SupportRig.ForwardPortAsync(bob, "echo", deadline.Token);
        await host.WriteLineAsync("stop", deadline.Token);
        await bob.WaitForExitAsync(deadline.Token);
        var protocols = await smarthost.WaitForMessagesAsync(2, deadline.Token);
        var sessionId = Regex.Match(protocols[0].TextBody ?? string.Empty, @"Sitzung (se-[A-Za-z0-9_-]+):").Groups[1].Value;

        protocols.SelectMany(m => m.To.Mailboxes).Select(m => m.Address).Should().BeEquivalentTo(["bob@example.internal", "audit@example.internal"]);
        protocols.Should().AllSatisfy(m => m.Subject.Should().StartWith("Sitzungsprotokoll: pc7, "));
        var text = protocols[0].TextBody;
        sessionId.Should().NotBeEmpty();
        text.Should().Contain($"Sitzung {sessionId}: bob auf pc7")
            .And.Contain("Erbetene Rechte: view, tunnel:echo, chat. Gewährt: view, tunnel:echo, chat.")
            .And.Contain("Die Richtlinie der Gruppe erlaubte die Sitzung ohne Rückfrage.")
            .And.Contain("Beendet durch host:")
            .And.Contain(" pc7 session.granted bob consent=policy").And.Contain(" pc7 session.ended pc7 by=host")
            .And.Contain($"https://rs.example.internal:{rig.Appliance.Port}/audit/session?id={sessionId}");
    }

    [Fact]
    public async Task CertificateWarning_WhenTheServerCertificateHasFiveDaysLeft_ReachesTheAdminsOnce_AlsoAfterARestart_AndDoctorSaysSo()
    {
        using var deadline = TestDeadline.Start();
        await using var smarthost = await SmtpSink.CreateAsync(deadline.Token);
        await using var appliance = await ApplianceProcess.InitialiseAsync(deadline.Token);
        var passwordFile = appliance.DataDirectory + "-ops.pw";
        await File.WriteAllTextAsync(passwordFile, "Ops-Password-2026-x\n", deadline.Token);
        await SupportRig.MustAsync(appliance.CliAsync(
            deadline.Token, "user", "add", "ops", "--role", "admin", "--email", "ops@example.internal", "--password-file", passwordFile));
        var healthy = await appliance.CliAsync(deadline.Token, "doctor");
        var fingerprint = ReplaceServerCertificate(appliance.DataDirectory, DateTimeOffset.UtcNow.AddDays(5));
        appliance.Settings = smarthost.ApplianceSettings();

        await appliance.RunAsync(deadline.Token);
        var warning = (await smarthost.WaitForMessagesAsync(1, deadline.Token))[0];
        var doctor = await appliance.CliAsync(deadline.Token, "doctor");
        var firstPort = appliance.Port;
        await appliance.StopAsync(deadline.Token);
        await appliance.RunAsync(deadline.Token);
        await Task.Delay(3000, deadline.Token);

        warning.To.Mailboxes.Should().ContainSingle().Which.Address.Should().Be("ops@example.internal", "the first admin has no address");
        warning.Subject.Should().Be("PrivateServer: the server certificate expires in 5 days");
        warning.TextBody.Should().Contain($"SHA-256 {fingerprint}").And.Contain($"browsers see at https://rs.example.internal:{firstPort}/");
        smarthost.Messages().Should().ContainSingle("a restart sends no second warning for the same certificate and threshold");
        appliance.Server.Stderr.Should().Contain("expires in 5 days");
        healthy.ExitCode.Should().Be(0, healthy.Stdout);
        healthy.Stdout.Should().StartWith("ok\tserver certificate\t").And.Contain("ok\tappliance CA\t").And.Contain("ok\taudit trail\t");
        doctor.ExitCode.Should().Be(1, "monitoring notices a certificate about to expire");
        doctor.Stdout.Should().MatchRegex(@"warning\tserver certificate\tO=PrivateServer, CN=rs\.example\.internal \(appliance-ca\): expires on \d{4}-\d\d-\d\d, in 4 days");
    }

    /// <summary>
    /// Gives the appliance a server certificate from its own CA that ends at <paramref name="notAfter"/> — as a year of
    /// running would — written like init writes it (key encrypted with the master key). Returns its SHA-256 fingerprint.
    /// </summary>
    private static string ReplaceServerCertificate(string data, DateTimeOffset notAfter)
    {
        var masterKey = File.ReadAllText(Path.Combine(data, "keys", "master.key")).Trim();
        using var caWithKey = PrivateKeyPem.LoadWithKey(
            File.ReadAllText(Path.Combine(data, "ca", "ca.crt")), File.ReadAllText(Path.Combine(data, "ca", "ca.key")), masterKey);
        using var authority = ApplianceAuthority.FromCertificate(caWithKey);
        var start = notAfter.AddDays(-30);
        using var server = authority.IssueServerCertificate(
            ServerCertificatePolicy.WithLoopbackNames([SubjectName.Parse("rs.example.internal")]), start, notAfter - start);
        File.WriteAllText(Path.Combine(data, "tls", "server.crt"), PrivateKeyPem.ExportCertificates(server, authority.Certificate));
        File.WriteAllText(Path.Combine(data, "tls", "server.key"), PrivateKeyPem.ExportEncrypted(server, masterKey));
        return CertificateFingerprint.Sha256Hex(server);
    }

    /// <summary>The one set-password link in a mail's text part.</summary>
    private static Uri Link(MimeMessage mail) => new(LinkPattern().Match(mail.TextBody ?? string.Empty).Value);

    [GeneratedRegex(@"https://\S+/password/set\?token=[A-Za-z0-9_-]{43}")]
    private static partial Regex LinkPattern();
}
