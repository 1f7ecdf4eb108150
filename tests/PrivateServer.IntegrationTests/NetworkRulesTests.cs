using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>
/// Where people and hosts may come from, checked on the real client address: a role's networks (settings), a group's
/// networks for its members and for its hosts (policy), and X-Forwarded-For believed only from a configured proxy.
/// Clients connect from other loopback addresses (127.0.0.0/8), so the appliance sees different networks.
/// </summary>
public sealed class NetworkRulesTests
{
    private static readonly IPAddress AdminDesk = IPAddress.Parse("127.0.0.1");
    private static readonly IPAddress Elsewhere = IPAddress.Parse("127.0.0.2");
    private static readonly IPAddress Proxy = IPAddress.Parse("127.0.0.3");

    [Fact]
    public async Task AdminsOnlyFromTheAdminNetwork_ForwardedAddressesOnlyFromTheTrustedProxy_AndACookieIsWorthNothingOutside()
    {
        using var deadline = TestDeadline.Start(120);
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token, new Dictionary<string, string>
        {
            ["PRIVATESERVER__Network__SignInFrom__admin"] = "127.0.0.1",
            ["PRIVATESERVER__Network__TrustedProxies"] = "127.0.0.3",
        });
        var password = appliance.AdminPassword;

        var cookies = new CookieContainer();
        using var atDesk = CaTrust.CreateClient(appliance.Ca, appliance.BaseAddress, cookies, AdminDesk);
        using var fromDesk = await WebLogin.PostAsync(atDesk, "admin", password, deadline.Token);
        using var fromElsewhere = await SignInAsync(appliance, Elsewhere, null, deadline.Token);
        using var spoofed = await SignInAsync(appliance, Elsewhere, "127.0.0.1", deadline.Token);
        using var viaProxyForDesk = await SignInAsync(appliance, Proxy, "127.0.0.1", deadline.Token);
        using var viaProxyForElsewhere = await SignInAsync(appliance, Proxy, "127.0.0.2", deadline.Token);
        using var wrongPassword = await SignInAsync(appliance, AdminDesk, null, deadline.Token, "not-the-password-123");
        using var carried = CaTrust.CreateClient(appliance.Ca, appliance.BaseAddress, cookies, Elsewhere);
        using var adminAtDesk = await atDesk.GetAsync(new Uri("/admin", UriKind.Relative), deadline.Token);
        using var adminElsewhere = await carried.GetAsync(new Uri("/admin", UriKind.Relative), deadline.Token);

        fromDesk.StatusCode.Should().Be(HttpStatusCode.Redirect);
        fromDesk.Headers.Location!.OriginalString.Should().Be("/");
        fromElsewhere.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        var refusal = await fromElsewhere.Content.ReadAsStringAsync(deadline.Token);
        var wrong = await wrongPassword.Content.ReadAsStringAsync(deadline.Token);
        LoginError(refusal).Should().Be(LoginError(wrong), "the outside does not learn that the password was right");
        spoofed.StatusCode.Should().Be(HttpStatusCode.Unauthorized, "X-Forwarded-For from an untrusted client is ignored");
        viaProxyForDesk.StatusCode.Should().Be(HttpStatusCode.Redirect, "the trusted proxy forwarded the admin desk's address");
        viaProxyForElsewhere.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        adminAtDesk.StatusCode.Should().Be(HttpStatusCode.OK);
        adminElsewhere.StatusCode.Should().Be(HttpStatusCode.Redirect, "the cookie carried to another network is refused there");
        adminElsewhere.Headers.Location!.AbsolutePath.Should().Be("/login");

        var export = Path.Combine(appliance.DataDirectory, "audit.json");
        await SupportRig.MustAsync(appliance.CliAsync(deadline.Token, "audit", "export", "--format", "json", "--out", export));
        (await File.ReadAllTextAsync(export, deadline.Token))
            .Should().Contain("address not allowed: 127.0.0.2 is outside the networks role admin may come from (127.0.0.1/32)");
    }

    [Fact]
    public async Task AGroupsNetworks_HoldForItsMembersTokensAndHosts_UntilTheAdminWidensThem()
    {
        using var deadline = TestDeadline.Start(150);
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        var bad = await rig.Appliance.CliAsync(deadline.Token, "group", "add", "branch", "--sign-in-from", "127.0.0.1/8");
        await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "group", "add", "branch", "--sign-in-from", "127.0.0.2", "--hosts-from", "127.0.0.2"));
        await rig.AddSupporterAsync("bob", "Bob-Password-2026", "branch", deadline.Token);
        var state = Path.Combine(rig.Root, "supporter-bob");

        var cliFromDesk = await rig.LoginAsync("bob", "Bob-Password-2026", state, deadline.Token);
        using var branchOffice = CaTrust.CreateClient(rig.Appliance.Ca, rig.Appliance.BaseAddress, null, Elsewhere);
        using var issued = await branchOffice.PostAsJsonAsync(new Uri("/api/v1/auth/token", UriKind.Relative), new { user = "bob", password = "Bob-Password-2026" }, deadline.Token);
        var token = (await issued.Content.ReadFromJsonAsync<TokenAnswer>(deadline.Token))!.Token;
        using var hostsInBranch = await HostsAsync(branchOffice, token, deadline.Token);
        using var desk = CaTrust.CreateClient(rig.Appliance.Ca, rig.Appliance.BaseAddress, null, AdminDesk);
        using var hostsAtDesk = await HostsAsync(desk, token, deadline.Token);

        // The admin center shows the group's networks and refuses one that does not parse, changing nothing.
        using var admin = rig.Appliance.CreateClient(new CookieContainer());
        (await WebLogin.PostAsync(admin, "admin", rig.Appliance.AdminPassword, deadline.Token)).Dispose();
        var groups = await admin.GetStringAsync(new Uri("/admin/groups", UriKind.Relative), deadline.Token);
        using var form = new FormUrlEncodedContent(
        [
            new("name", "branch"), new("consent", "ask"), new("features", "view"), new("maxFileSizeMiB", "1024"),
            new("signInFrom", "127.0.0.2, branch-office"), new("hostsFrom", "127.0.0.2"), new("__RequestVerificationToken", WebLogin.AntiforgeryToken(groups)),
        ]);
        using var refused = await admin.PostAsync(new Uri("/admin/groups?handler=Policy", UriKind.Relative), form, deadline.Token);
        var refusedPage = await refused.Content.ReadAsStringAsync(deadline.Token);

        groups.Should().Contain("name=\"signInFrom\" value=\"127.0.0.2/32\"").And.Contain("name=\"hostsFrom\" value=\"127.0.0.2/32\"");
        refusedPage.Should().Contain("sign-in networks: &#x27;branch-office&#x27; is not an address or network");
        bad.ExitCode.Should().NotBe(0);
        bad.Stderr.Should().Contain("sign-in networks: '127.0.0.1/8' has host bits set; the network is 127.0.0.0/8");
        cliFromDesk.ExitCode.Should().NotBe(0);
        cliFromDesk.Stderr.Should().Contain("wrong user name or password");
        issued.StatusCode.Should().Be(HttpStatusCode.OK);
        hostsInBranch.StatusCode.Should().Be(HttpStatusCode.OK);
        hostsAtDesk.StatusCode.Should().Be(HttpStatusCode.Unauthorized, "the token carried out of the branch network is refused");

        // A host of the group connecting from outside its network is refused, says so and keeps trying; once the admin
        // widens the group's networks it comes online by itself.
        var hostState = await rig.EnrollHostAsync("branch-pc", deadline.Token, "branch");
        var host = rig.Track(ChildProcess.Start(Programs.Host, ["run", "--state", hostState]));
        await host.WaitForStderrAsync("the server refused this module", deadline.Token);
        var offline = (await rig.Appliance.CliAsync(deadline.Token, "host", "list")).Stdout;

        var widened = await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "group", "set", "branch", "--hosts-from", "127.0.0.0/8", "--sign-in-from", ""));
        await host.WaitForStderrAsync("Online as ", deadline.Token);
        var cliNow = await rig.LoginAsync("bob", "Bob-Password-2026", state, deadline.Token);

        offline.Should().MatchRegex(@"(?m)^branch-pc\t[^\t]+\tbranch\toffline\t");
        widened.Stderr.Should().Contain("members sign in from anywhere, hosts connect from 127.0.0.0/8");
        cliNow.ExitCode.Should().Be(0, cliNow.Stderr);
        var export = Path.Combine(rig.Root, "audit.json");
        await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "audit", "export", "--format", "json", "--out", export));
        (await File.ReadAllTextAsync(export, deadline.Token)).Should().Contain("host.connect-refused").And.Contain("the hosts of group branch");
    }

    private static async Task<HttpResponseMessage> SignInAsync(
        ApplianceProcess appliance, IPAddress from, string? forwardedFor, CancellationToken cancellationToken, string? password = null)
    {
        using var client = CaTrust.CreateClient(appliance.Ca, appliance.BaseAddress, new CookieContainer(), from);
        if (forwardedFor is not null)
        {
            client.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        }

        return await WebLogin.PostAsync(client, "admin", password ?? appliance.AdminPassword, cancellationToken);
    }

    private static async Task<HttpResponseMessage> HostsAsync(HttpClient client, string token, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/v1/hosts", UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.SendAsync(request, cancellationToken);
    }

    private static string LoginError(string page)
    {
        var start = page.IndexOf("id=\"login-error\">", StringComparison.Ordinal);
        return start < 0 ? "(no error shown)" : page[start..page.IndexOf("</p>", start, StringComparison.Ordinal)];
    }

    private sealed record TokenAnswer(string Token);
}
