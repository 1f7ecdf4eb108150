using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>
/// Two-factor sign-in with a real authenticator's codes (RFC 6238): set up at the first sign-in from a QR code that a
/// real reader (zbarimg) scans off the browser's screen, then codes and recovery codes in the browser and the supporter
/// module, group policy, and an admin's reset.
/// </summary>
public sealed partial class TwoFactorSignInTests
{
    [Fact]
    public async Task Admin_ByDefault_SetsUpTheAppFromTheQrCodeAtFirstSignIn_ThenSignsInWithCodesAndRecoveryCodes_EachOnce()
    {
        using var deadline = TestDeadline.Start(240);
        var appliance = await ApplianceProcess.InitialiseAsync(deadline.Token);
        await using var _ = appliance;
        appliance.TwoFactorRequiredFor = null; // the product's default: admins need a second factor
        await appliance.RunAsync(deadline.Token);
        await using var browser = await WebBrowser.StartAsync();

        await using var first = await browser.NewSessionAsync(appliance);
        await SubmitPasswordAsync(first, "admin", appliance.AdminPassword);
        await first.WaitForPathAsync("/login/enrol");
        var qr = Path.Combine(appliance.DataDirectory, "qr.png");
        await first.Page.Locator("#totp-qr").ScreenshotAsync(new LocatorScreenshotOptions { Path = qr });
        var scanned = await ChildProcess.RunAsync("zbarimg", ["--quiet", "--raw", qr], deadline.Token);
        scanned.ExitCode.Should().Be(0, "the QR code must scan: " + scanned.Stderr);
        scanned.Stdout.Should().StartWith("otpauth://totp/").And.Contain("issuer=PrivateServer");
        var app = Authenticator.FromAddress(scanned.Stdout);
        (await first.Page.Locator("#totp-secret").InnerTextAsync()).Replace(" ", string.Empty, StringComparison.Ordinal).Should().Be(app.Secret, "the key to type is the scanned one");

        await first.Page.FillAsync("#totp-code", app.WrongCode());
        await first.Page.ClickAsync("#totp-confirm");
        await first.WaitForAsync("#enrol-error");
        await first.Page.FillAsync("#totp-code", await app.NextCodeAsync(deadline.Token));
        await first.Page.ClickAsync("#totp-confirm");
        await first.WaitForAsync("#recovery-codes", "main");
        var recovery = await first.Page.Locator("#recovery-codes li").AllInnerTextsAsync();
        await first.Page.ClickAsync("#enrol-continue");
        await first.Page.GotoAsync("/admin/users");
        var adminRow = first.Page.Locator("#users tr[data-user=admin]");

        recovery.Should().HaveCount(10);
        (await adminRow.InnerTextAsync()).Should().Contain("2FA", "the admin is signed in and the user list shows the second factor");
        first.ForeignRequests.Should().BeEmpty("the QR code is drawn on the appliance");
        first.Problems.Should().OnlyContain(p => p.Contains("status of 400", StringComparison.Ordinal), "nothing but the refused wrong code (no CSP violation from the QR code)");

        // Next browser: the password leads to the code page; a wrong code is refused, a recovery code works once.
        await using var second = await browser.NewSessionAsync(appliance);
        await SubmitPasswordAsync(second, "admin", appliance.AdminPassword);
        await second.WaitForPathAsync("/login/code");
        (await second.Page.GotoAsync("/admin"))!.Url.Should().Contain("/login", "the password alone signs nobody in");
        await second.Page.GotoAsync("/login/code");
        await SubmitCodeAsync(second, app.WrongCode());
        (await second.Page.Locator("#code-error").InnerTextAsync()).Should().Contain("wrong or was already used");
        await SubmitCodeAsync(second, recovery[0].ToLowerInvariant());
        await second.WaitForPathAsync("/login", leaves: true);

        await using var third = await browser.NewSessionAsync(appliance);
        await SubmitPasswordAsync(third, "admin", appliance.AdminPassword);
        await third.WaitForPathAsync("/login/code");
        await SubmitCodeAsync(third, recovery[0]);
        await third.WaitForAsync("#code-error");
        var code = await app.NextCodeAsync(deadline.Token);
        await SubmitCodeAsync(third, code);
        await third.WaitForPathAsync("/login", leaves: true);

        // The same code again, in a fourth browser: refused (a code works once).
        using var fourth = appliance.CreateClient(new CookieContainer());
        using var pending = await WebLogin.PostAsync(fourth, "admin", appliance.AdminPassword, deadline.Token);
        pending.StatusCode.Should().Be(HttpStatusCode.Redirect);
        pending.Headers.Location!.OriginalString.Should().Be("/login/code");
        using var replayed = await PostCodeAsync(fourth, code, deadline.Token);
        replayed.StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        var export = Path.Combine(appliance.DataDirectory, "audit.json");
        var audit = await appliance.CliAsync(deadline.Token, "audit", "export", "--format", "json", "--out", export);
        audit.ExitCode.Should().Be(0, audit.Stderr);
        var events = await File.ReadAllTextAsync(export, deadline.Token);
        events.Should().Contain("user.two-factor.enrolled").And.Contain("user.two-factor.recovery-code-used").And.Contain("wrong second-factor code");
    }

    [Fact]
    public async Task GroupPolicy_RequiresIt_TheSupporterModuleSignsInWithTotp_AndAnAdminResetSendsTheUserBackToSetUp()
    {
        using var deadline = TestDeadline.Start(180);
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "group", "add", "finance", "--require-two-factor"));
        await rig.AddSupporterAsync("bob", "Bob-Password-2026", "finance", deadline.Token);
        var state = Path.Combine(rig.Root, "supporter-bob");

        var beforeSetUp = await rig.LoginAsync("bob", "Bob-Password-2026", state, deadline.Token);
        beforeSetUp.ExitCode.Should().NotBe(0);
        beforeSetUp.Stderr.Should().Contain("has none yet: sign in to the web console once to set up an authenticator app");

        var app = await EnrolThroughTheWebFormAsync(rig.Appliance, "bob", "Bob-Password-2026", deadline.Token);
        var withoutCode = await rig.LoginAsync("bob", "Bob-Password-2026", state, deadline.Token);
        var wrongCode = await rig.LoginAsync("bob", "Bob-Password-2026", state, deadline.Token, app.WrongCode());
        var withCode = await rig.LoginAsync("bob", "Bob-Password-2026", state, deadline.Token, await app.NextCodeAsync(deadline.Token));
        var hosts = await ChildProcess.RunAsync(Programs.Supporter, ["hosts", "--state", state], deadline.Token);
        var listed = await rig.Appliance.CliAsync(deadline.Token, "user", "list");

        withoutCode.ExitCode.Should().NotBe(0);
        withoutCode.Stderr.Should().Contain("give the code of your authenticator app (or a recovery code) with --totp CODE");
        wrongCode.ExitCode.Should().NotBe(0);
        wrongCode.Stderr.Should().Contain("wrong or already used second-factor code");
        withCode.ExitCode.Should().Be(0, withCode.Stderr);
        hosts.ExitCode.Should().Be(0, hosts.Stderr);
        listed.Stdout.Should().MatchRegex(@"(?m)^bob\t.*\ttwo-factor:on$").And.MatchRegex(@"(?m)^alice\t.*\ttwo-factor:off$");

        var reset = await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "user", "reset-two-factor", "bob"));
        var again = await rig.Appliance.CliAsync(deadline.Token, "user", "reset-two-factor", "bob");
        var afterReset = await rig.LoginAsync("bob", "Bob-Password-2026", state, deadline.Token, await app.NextCodeAsync(deadline.Token));

        reset.Stderr.Should().Contain("Removed the two-factor sign-in of bob.");
        again.ExitCode.Should().NotBe(0);
        again.Stderr.Should().Contain("'bob' has no two-factor sign-in set up");
        afterReset.ExitCode.Should().NotBe(0, "the old app's codes are void");
        afterReset.Stderr.Should().Contain("has none yet", "the group still requires one: set up again");

        // The same from the admin center: reset on the users page, then the group's policy no longer requires it.
        await EnrolThroughTheWebFormAsync(rig.Appliance, "bob", "Bob-Password-2026", deadline.Token);
        using var admin = rig.Appliance.CreateClient(new CookieContainer());
        (await WebLogin.PostAsync(admin, "admin", rig.Appliance.AdminPassword, deadline.Token)).Dispose();
        var users = await admin.GetStringAsync("/admin/users", deadline.Token);
        var resetPage = await PostFormAsync(admin, "/admin/users?handler=ResetTwoFactor", WebLogin.AntiforgeryToken(users), [new("name", "bob")], deadline.Token);
        var groups = await admin.GetStringAsync("/admin/groups", deadline.Token);
        var policyPage = await PostFormAsync(
            admin, "/admin/groups?handler=Policy", WebLogin.AntiforgeryToken(groups),
            [new("name", "finance"), new("consent", "ask"), new("features", "view"), new("maxFileSizeMiB", "1024")], deadline.Token);
        var passwordAlone = await rig.LoginAsync("bob", "Bob-Password-2026", state, deadline.Token);
        var alice = await rig.LoginAsync(SupportRig.Supporter, SupportRig.SupporterPassword, rig.SupporterState, deadline.Token);

        users.Should().Contain("handler=ResetTwoFactor").And.Contain("2FA");
        resetPage.Should().Contain("The two-factor sign-in of bob was removed.");
        groups.Should().MatchRegex("name=\"requireTwoFactor\" value=\"true\" checked");
        policyPage.Should().NotMatchRegex("name=\"requireTwoFactor\" value=\"true\" checked");
        passwordAlone.ExitCode.Should().Be(0, "the group no longer requires a second factor: " + passwordAlone.Stderr);
        alice.ExitCode.Should().Be(0, "a supporter outside the group signs in with the password alone: " + alice.Stderr);
    }

    private static async Task<string> PostFormAsync(
        HttpClient client, string path, string antiforgery, KeyValuePair<string, string>[] fields, CancellationToken cancellationToken)
    {
        using var form = new FormUrlEncodedContent([.. fields, new("__RequestVerificationToken", antiforgery)]);
        using var response = await client.PostAsync(new Uri(path, UriKind.Relative), form, cancellationToken);
        return await response.Content.ReadAsStringAsync(cancellationToken);
    }

    [Fact]
    public async Task Profile_ASupporterTurnsItOnByChoice_AndOffAgainOnlyWithACurrentCode()
    {
        using var deadline = TestDeadline.Start(150);
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        var file = Path.Combine(appliance.DataDirectory, "carol.pw");
        await File.WriteAllTextAsync(file, "Carol-Password-2026\n", deadline.Token);
        await SupportRig.MustAsync(appliance.CliAsync(deadline.Token, "user", "add", "carol", "--role", "supporter", "--password-file", file));
        using var browser = appliance.CreateClient(new CookieContainer());
        using var signedIn = await WebLogin.PostAsync(browser, "carol", "Carol-Password-2026", deadline.Token);
        signedIn.Headers.Location!.OriginalString.Should().Be("/", "no second factor is required of supporters here");

        var before = await browser.GetStringAsync("/profile", deadline.Token);
        var setup = await ProfilePostAsync(browser, "TwoFactorSetup", [], deadline.Token);
        var app = new Authenticator(SecretPattern().Match(setup).Groups[1].Value.Replace(" ", string.Empty, StringComparison.Ordinal));
        var token = SetupTokenPattern().Match(setup).Groups[1].Value;
        var wrong = await ProfilePostAsync(browser, "TwoFactorConfirm", [("setupToken", token), ("code", app.WrongCode())], deadline.Token);
        var confirmed = await ProfilePostAsync(browser, "TwoFactorConfirm", [("setupToken", token), ("code", await app.NextCodeAsync(deadline.Token))], deadline.Token);
        var replaceWithoutCode = await ProfilePostAsync(browser, "TwoFactorSetup", [], deadline.Token);
        using var other = appliance.CreateClient(new CookieContainer());
        using var nowWithCode = await WebLogin.PostAsync(other, "carol", "Carol-Password-2026", deadline.Token);
        var notOff = await ProfilePostAsync(browser, "TwoFactorRemove", [("code", app.WrongCode())], deadline.Token);
        var off = await ProfilePostAsync(browser, "TwoFactorRemove", [("code", await app.NextCodeAsync(deadline.Token))], deadline.Token);
        using var third = appliance.CreateClient(new CookieContainer());
        using var passwordAgain = await WebLogin.PostAsync(third, "carol", "Carol-Password-2026", deadline.Token);

        before.Should().Contain("Off: you sign in with your password alone.");
        wrong.Should().Contain("The code does not match.").And.Contain(app.Secret[..4], "the same key is shown again");
        confirmed.Should().Contain("Two-factor sign-in is on.").And.Contain("id=\"recovery-codes\"");
        nowWithCode.Headers.Location!.OriginalString.Should().Be("/login/code");
        replaceWithoutCode.Should().Contain("This code is wrong or was already used.", "a browser left open cannot swap in another app")
            .And.NotContain("id=\"totp-secret\"");
        notOff.Should().Contain("This code is wrong or was already used.");
        off.Should().Contain("Two-factor sign-in is off.");
        passwordAgain.Headers.Location!.OriginalString.Should().Be("/");
    }

    private static async Task<string> ProfilePostAsync(HttpClient browser, string handler, (string Name, string Value)[] fields, CancellationToken cancellationToken)
    {
        var page = await browser.GetStringAsync("/profile", cancellationToken);
        var values = fields.ToDictionary(f => f.Name, f => f.Value);
        values["__RequestVerificationToken"] = WebLogin.AntiforgeryToken(page);
        using var form = new FormUrlEncodedContent(values);
        using var response = await browser.PostAsync("/profile?handler=" + handler, form, cancellationToken);
        return await response.Content.ReadAsStringAsync(cancellationToken);
    }

    /// <summary>Signs in through the real forms as a browser would, reads the key the set-up page shows and confirms it with a code.</summary>
    private static async Task<Authenticator> EnrolThroughTheWebFormAsync(ApplianceProcess appliance, string user, string password, CancellationToken cancellationToken)
    {
        using var client = appliance.CreateClient(new CookieContainer());
        using var pending = await WebLogin.PostAsync(client, user, password, cancellationToken);
        pending.Headers.Location!.OriginalString.Should().Be("/login/enrol");
        var page = await client.GetStringAsync("/login/enrol", cancellationToken);
        var app = new Authenticator(SecretPattern().Match(page).Groups[1].Value.Replace(" ", string.Empty, StringComparison.Ordinal));
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["SetupToken"] = SetupTokenPattern().Match(page).Groups[1].Value,
            ["Code"] = await app.NextCodeAsync(cancellationToken),
            ["__RequestVerificationToken"] = WebLogin.AntiforgeryToken(page),
        });
        using var confirmed = await client.PostAsync("/login/enrol", form, cancellationToken);
        var shown = await confirmed.Content.ReadAsStringAsync(cancellationToken);
        confirmed.StatusCode.Should().Be(HttpStatusCode.OK, shown);
        shown.Should().Contain("id=\"recovery-codes\"");
        return app;
    }

    private static async Task<HttpResponseMessage> PostCodeAsync(HttpClient client, string code, CancellationToken cancellationToken)
    {
        var page = await client.GetStringAsync("/login/code", cancellationToken);
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Code"] = code,
            ["__RequestVerificationToken"] = WebLogin.AntiforgeryToken(page),
        });
        return await client.PostAsync("/login/code", form, cancellationToken);
    }

    private static async Task SubmitPasswordAsync(WebSession session, string user, string password)
    {
        await session.Page.GotoAsync("/login");
        await session.Page.FillAsync("#UserName", user);
        await session.Page.FillAsync("#Password", password);
        await session.Page.ClickAsync("button[type=submit].primary");
    }

    private static async Task SubmitCodeAsync(WebSession session, string code)
    {
        await session.Page.FillAsync("#Code", code);
        await session.Page.ClickAsync("#code-submit");
    }

    [GeneratedRegex("id=\"totp-secret\">([A-Z2-7 ]+)</code>")]
    private static partial Regex SecretPattern();

    [GeneratedRegex("<input type=\"hidden\" name=\"SetupToken\" value=\"([^\"]+)\"")]
    private static partial Regex SetupTokenPattern();
}
