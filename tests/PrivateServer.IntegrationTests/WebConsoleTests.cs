using System.Net;
using Microsoft.Playwright;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>
/// The web console in headless Chromium: the admin center sets up what a supporter needs, every
/// page stays on the appliance's origin without console errors or CSP violations, each role sees
/// only its own pages, and every page speaks German and English.
/// </summary>
public sealed class WebConsoleTests
{
    private static readonly string[] Pages =
        ["/", "/console", "/admin", "/admin/users", "/admin/groups", "/admin/hosts", "/admin/tokens", "/admin/settings", "/admin/mail", "/admin/certificate", "/audit", "/audit/events", "/profile", "/terms", "/password/forgot",
         "/leave?to=https%3A%2F%2Fexample.com%2F"];

    // A 1×1 PNG: the company logo the admin uploads.
    private static readonly byte[] Logo = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");

    [Fact]
    public async Task AdminCenter_CreatesGroupSupporterAndToken_AndTheSupporterSeesTheEnrolledHostOnline()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await using var browser = await WebBrowser.StartAsync();
        await using var admin = await browser.NewSessionAsync(rig.Appliance);
        await admin.SignInAsync("admin", rig.Appliance.AdminPassword);

        await admin.Page.GotoAsync("/admin/groups");
        await admin.Page.FillAsync("#group-name", "field");
        await admin.Page.SelectOptionAsync("#group-consent", "auto");
        var groupDone = await admin.SubmitAsync("#add-group button[type=submit]");
        await admin.Page.GotoAsync("/admin/users");
        await admin.Page.FillAsync("#new-name", "sam");
        await admin.Page.SelectOptionAsync("#new-groups", "field");
        await admin.Page.ClickAsync("#add-user button[type=submit]");
        var password = (await admin.Page.TextContentAsync("#admin-secret"))!.Trim();
        await admin.Page.GotoAsync("/admin/tokens");
        await admin.Page.SelectOptionAsync("#token-group", "field");
        await admin.Page.ClickAsync("#create-token button[type=submit]");
        var token = (await admin.Page.TextContentAsync("#admin-secret"))!.Trim();
        var command = await admin.Page.TextContentAsync("#enroll-command");
        var state = await rig.EnrollHostWithTokenAsync("workstation", token, deadline.Token);
        await rig.StartHostAsync(state, deadline.Token, "--service", "echo=127.0.0.1:9");
        await admin.Page.GotoAsync("/admin/hosts");
        var hostRow = await admin.Page.Locator("#hosts tr", new PageLocatorOptions { HasText = "workstation" }).InnerTextAsync();

        await using var sam = await browser.NewSessionAsync(rig.Appliance);
        await sam.SignInAsync("sam", password);
        await sam.HostOnlineAsync("workstation");
        var aliceHosts = await HostNamesAsync(browser, rig.Appliance, SupportRig.Supporter, SupportRig.SupporterPassword);

        groupDone.Should().Be("Group field was added.");
        password.Should().HaveLength(20);
        token.Should().HaveLength(43);
        command.Should().Contain($"--token {token}").And.Contain($"--ca-fingerprint {rig.Fingerprint}");
        hostRow.Should().Contain("field").And.Contain("online");
        aliceHosts.Should().NotContain("workstation", "alice is not in group field");
        admin.ForeignRequests.Should().BeEmpty();
        admin.Problems.Should().BeEmpty();
        sam.Problems.Should().BeEmpty();
    }

    [Fact]
    public async Task Settings_BrandingTermsAndCodeLifetime_TakeEffectAtOnce_AndLinksInTheTermsGoThroughTheWarningPage()
    {
        const string terms = "Read https://example.com/privacy before we start.\nThe session ends when you type stop.";
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await using var browser = await WebBrowser.StartAsync();
        await using var admin = await browser.NewSessionAsync(rig.Appliance);
        await admin.SignInAsync("admin", rig.Appliance.AdminPassword);

        await admin.Page.GotoAsync("/admin/settings");
        await admin.Page.FillAsync("#company-name", "Muster GmbH");
        await admin.Page.FillAsync("#code-lifetime", "3");
        await admin.Page.FillAsync("#terms-en", terms);
        var saved = await admin.SubmitAsync("#save-settings");
        await admin.Page.SetInputFilesAsync("#logo-file", new FilePayload { Name = "logo.png", MimeType = "image/png", Buffer = Logo });
        await admin.Page.ClickAsync("#upload-logo");
        var brand = await admin.Page.TextContentAsync("#brand-name");
        var logoWidth = await admin.Page.EvaluateAsync<int>("() => document.getElementById('brand-logo').naturalWidth");
        await admin.Page.SetInputFilesAsync("#logo-file", new FilePayload { Name = "logo.svg", MimeType = "image/png", Buffer = "<svg xmlns='http://www.w3.org/2000/svg'/>"u8.ToArray() });
        await admin.Page.ClickAsync("#upload-logo");
        var refusedLogo = await admin.Page.TextContentAsync("#logo-error");

        await using var visitor = await browser.NewSessionAsync(rig.Appliance);
        await visitor.Page.GotoAsync("/terms");
        var shown = await visitor.Page.TextContentAsync("#terms-text");
        var visitorBrand = await visitor.Page.TextContentAsync("#brand-name");
        await visitor.Page.ClickAsync("#terms-text a");
        var warning = new Uri(visitor.Page.Url);
        var target = await visitor.Page.TextContentAsync("#leave-target");

        await using var alice = await browser.NewSessionAsync(rig.Appliance);
        await alice.SignInAsync(SupportRig.Supporter, SupportRig.SupporterPassword);
        await alice.Page.GotoAsync("/console");
        await alice.Page.ClickAsync("#create-code");
        var code = (await alice.Page.GetAttributeAsync("#viewer", "data-code"))!;
        var lifetime = await alice.Page.EvaluateAsync<double>("() => (Number(document.getElementById('viewer').dataset.codeExpires) - Date.now()) / 1000");
        var join = rig.StartJoin(["--code", code, "--name", "carol-pc", "--service", "screen=127.0.0.1:9"]);
        await join.WaitForStderrAsync(@"Allow\? \[y/N\]", deadline.Token);
        await join.WriteLineAsync("n", deadline.Token);
        await alice.WaitForAsync("#session-status[data-state=refused]", "#session-status");

        saved.Should().Be("Settings saved.");
        brand.Should().Be("Muster GmbH");
        logoWidth.Should().Be(1, "the uploaded logo is served by the appliance and shown in the header");
        refusedLogo.Should().Be("Only PNG and JPEG pictures are accepted.");
        shown.Should().Be(terms);
        visitorBrand.Should().Be("Muster GmbH");
        warning.AbsolutePath.Should().Be("/leave");
        target.Should().Be("https://example.com/privacy");
        lifetime.Should().BeInRange(170, 181, "the code lives the 3 minutes the admin set, not the configured 10");
        join.Stderr.Should().Contain("Support terms (please read):\n" + terms);
        admin.Problems.Should().ContainSingle().Which.Should().Contain("status of 400", "only the refused upload answers with an error");
        visitor.Problems.Should().BeEmpty();
        visitor.ForeignRequests.Should().BeEmpty();
        alice.Problems.Should().BeEmpty();
    }

    [Fact]
    public async Task EveryPage_AsEachRole_StaysOnTheApplianceWithoutErrors_AndOtherRolesPagesAreDenied()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await AddUserAsync(rig, "audrey", "auditor", "Auditor-Password-2026", deadline.Token);
        await using var browser = await WebBrowser.StartAsync();
        var allowed = new Dictionary<string, Func<string, bool>>
        {
            ["admin"] = _ => true,
            [SupportRig.Supporter] = page => !page.StartsWith("/admin", StringComparison.Ordinal) && !page.StartsWith("/audit", StringComparison.Ordinal),
            ["audrey"] = page => !page.StartsWith("/admin", StringComparison.Ordinal) && !page.StartsWith("/console", StringComparison.Ordinal),
        };
        var passwords = new Dictionary<string, string>
        {
            ["admin"] = rig.Appliance.AdminPassword,
            [SupportRig.Supporter] = SupportRig.SupporterPassword,
            ["audrey"] = "Auditor-Password-2026",
        };

        var wrong = new List<string>();
        foreach (var (user, may) in allowed)
        {
            await using var tab = await browser.NewSessionAsync(rig.Appliance);
            await tab.SignInAsync(user, passwords[user]);
            foreach (var page in Pages)
            {
                var before = tab.Problems.Count;
                var response = await tab.Page.GotoAsync(page);
                await tab.Page.WaitForLoadStateAsync(LoadState.NetworkIdle);
                var status = response!.Status;
                var landed = new Uri(tab.Page.Url).AbsolutePath;
                var expected = may(page) ? 200 : 403;
                if (status != expected || (expected == 403 && landed != "/denied"))
                {
                    wrong.Add($"{user} {page}: {status} at {landed}, expected {expected}");
                }

                var problems = tab.Problems.Skip(before).Where(p => expected == 200 || !p.Contains("status of 403", StringComparison.Ordinal));
                wrong.AddRange(problems.Select(p => $"{user} {page}: {p}"));
            }

            wrong.AddRange(tab.ForeignRequests.Select(url => $"{user}: request to another origin: {url}"));
        }

        wrong.Should().BeEmpty();
    }

    [Fact]
    public async Task EveryPage_InGermanAndEnglish_ShowsItsHeadingInThatLanguage()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        await using var browser = await WebBrowser.StartAsync();
        await using var english = await browser.NewSessionAsync(appliance, "en");
        await using var german = await browser.NewSessionAsync(appliance, "de");
        await english.SignInAsync("admin", appliance.AdminPassword);
        await german.SignInAsync("admin", appliance.AdminPassword);

        var same = new List<string>();
        foreach (var page in Pages.Append("/login").Append("/denied"))
        {
            await english.Page.GotoAsync(page);
            await german.Page.GotoAsync(page);
            var en = await english.Page.TextContentAsync("main h1");
            var de = await german.Page.TextContentAsync("main h1");
            var lang = await german.Page.GetAttributeAsync("html", "lang");
            if (en == de || lang != "de")
            {
                same.Add($"{page}: '{en}' / '{de}' (lang {lang})");
            }
        }

        same.Should().BeEmpty();
    }

    [Fact]
    public async Task AccessControl_SupporterReachesNoOtherGroupsHost_AuditorOpensNoSession_ForgedPostIsRejected()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "group", "add", "finance"));
        var state = await rig.EnrollHostAsync("ledger", deadline.Token, "finance");
        var host = await rig.StartHostAsync(state, deadline.Token, "--service", "screen=127.0.0.1:9");
        var hostId = (await rig.Appliance.CliAsync(deadline.Token, "host", "list")).Stdout
            .Split('\n').First(l => l.StartsWith("ledger\t", StringComparison.Ordinal)).Split('\t')[1];
        await AddUserAsync(rig, "audrey", "auditor", "Auditor-Password-2026", deadline.Token);
        await using var browser = await WebBrowser.StartAsync();
        await using var alice = await browser.NewSessionAsync(rig.Appliance);
        await alice.SignInAsync(SupportRig.Supporter, SupportRig.SupporterPassword);

        await alice.Page.GotoAsync($"/console/session?host={hostId}&mode=control");
        await alice.WaitForAsync("#session-status[data-state=refused]", "#session-status");
        var refusal = await alice.Page.TextContentAsync("#session-status");
        var adminPage = await alice.Page.GotoAsync("/admin/users");

        using var auditor = rig.Appliance.CreateClient();
        (await WebLogin.PostAsync(auditor, "audrey", "Auditor-Password-2026", deadline.Token)).Dispose();
        using var auditorHosts = await auditor.GetAsync("/web/hosts", deadline.Token);
        using var auditorConsole = await auditor.GetAsync("/console", deadline.Token);

        using var admin = rig.Appliance.CreateClient();
        (await WebLogin.PostAsync(admin, "admin", rig.Appliance.AdminPassword, deadline.Token)).Dispose();
        using var forged = await admin.PostAsync(
            "/admin/groups?handler=Add", new FormUrlEncodedContent(new Dictionary<string, string> { ["name"] = "forged", ["consent"] = "auto" }), deadline.Token);
        var groups = await rig.Appliance.CliAsync(deadline.Token, "group", "list");

        refusal.Should().Contain($"no host '{hostId}' among the hosts you may reach");
        host.Stderr.Should().NotContain("alice", "the host was never asked");
        adminPage!.Status.Should().Be(403);
        new Uri(alice.Page.Url).AbsolutePath.Should().Be("/denied");
        auditorHosts.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        auditorConsole.StatusCode.Should().Be(HttpStatusCode.Redirect);
        auditorConsole.Headers.Location!.ToString().Should().Contain("/denied");
        forged.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        groups.Stdout.Should().NotContain("forged");
    }

    private static async Task AddUserAsync(SupportRig rig, string name, string role, string password, CancellationToken cancellationToken)
    {
        var file = Path.Combine(rig.Root, name + ".pw");
        await File.WriteAllTextAsync(file, password + "\n", cancellationToken);
        await SupportRig.MustAsync(rig.Appliance.CliAsync(cancellationToken, "user", "add", name, "--role", role, "--password-file", file));
    }

    private static async Task<IReadOnlyList<string>> HostNamesAsync(WebBrowser browser, ApplianceProcess appliance, string user, string password)
    {
        await using var tab = await browser.NewSessionAsync(appliance);
        await tab.SignInAsync(user, password);
        await tab.Page.GotoAsync("/console");
        await tab.Page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        return await tab.Page.Locator("#host-rows tr td:first-child").AllInnerTextsAsync();
    }
}
