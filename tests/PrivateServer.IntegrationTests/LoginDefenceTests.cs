using System.Net;
using System.Net.Http.Json;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>
/// Brute force against the real appliance from other loopback addresses (127.0.0.0/8): one address guessing is slowed
/// down after five failures and blocked after ten, while the account's owner still signs in from elsewhere; admins see
/// and lift locks with the CLI; the web form says the same without telling whether the account exists.
/// </summary>
public sealed class LoginDefenceTests
{
    private static readonly IPAddress Attacker = IPAddress.Parse("127.0.0.2");

    [Fact]
    public async Task AThousandGuessesFromOneAddress_AreBlockedAfterTen_WhileTheOwnerSignsInFromAnother_AndTheAdminLiftsTheBlock()
    {
        using var deadline = TestDeadline.Start(120);
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        using var attacker = CaTrust.CreateClient(appliance.Ca, appliance.BaseAddress, null, Attacker);
        using var owner = appliance.CreateClient();

        var answers = new List<HttpStatusCode>();
        string? lastRefusal = null;
        for (var i = 0; i < 1000; i++)
        {
            using var response = await attacker.PostAsJsonAsync("/api/v1/auth/token", new { user = "admin", password = $"Guess-Number-{i:D4}" }, deadline.Token);
            answers.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                lastRefusal = await response.Content.ReadAsStringAsync(deadline.Token);
            }
        }

        await Task.Delay(TimeSpan.FromSeconds(1.2), deadline.Token); // the name's own delay after its fifth failure
        using var signedIn = await owner.PostAsJsonAsync("/api/v1/auth/token", new { user = "admin", password = appliance.AdminPassword }, deadline.Token);
        using var stillBlocked = await attacker.PostAsJsonAsync("/api/v1/auth/token", new { user = "admin", password = appliance.AdminPassword }, deadline.Token);
        var locks = await SupportRig.MustAsync(appliance.CliAsync(deadline.Token, "user", "locks"));
        var unlocked = await SupportRig.MustAsync(appliance.CliAsync(deadline.Token, "user", "unlock", "127.0.0.2"));
        using var afterUnlock = await attacker.PostAsJsonAsync("/api/v1/auth/token", new { user = "admin", password = appliance.AdminPassword }, deadline.Token);
        var again = await appliance.CliAsync(deadline.Token, "user", "unlock", "127.0.0.2");
        var audit = Path.Combine(appliance.DataDirectory + "-audit.json");
        await SupportRig.MustAsync(appliance.CliAsync(deadline.Token, "audit", "export", "--format", "json", "--out", audit));
        var events = await File.ReadAllTextAsync(audit, deadline.Token);
        File.Delete(audit);

        answers.Take(5).Should().AllBeEquivalentTo(HttpStatusCode.Unauthorized, "five wrong passwords are checked");
        answers.Skip(5).Should().AllBeEquivalentTo(HttpStatusCode.TooManyRequests, "from the sixth on nothing is checked");
        lastRefusal.Should().Contain("too many failed sign-ins from this address or for this name; try again in 15 min");
        signedIn.StatusCode.Should().Be(HttpStatusCode.OK, "the owner signs in from another address");
        stillBlocked.StatusCode.Should().Be(HttpStatusCode.TooManyRequests, "even the right password is not checked from a blocked address");
        stillBlocked.Headers.RetryAfter!.Delta!.Value.Should().BeGreaterThan(TimeSpan.FromMinutes(14));
        locks.Stdout.Should().MatchRegex(@"address\t127\.0\.0\.2\t10\t[^\t]+\tblocked until ");
        unlocked.Stderr.Should().Contain("Unlocked address 127.0.0.2 (10 failed sign-ins forgotten).");
        afterUnlock.StatusCode.Should().Be(HttpStatusCode.OK);
        again.ExitCode.Should().Be(1);
        again.Stderr.Should().Contain("'127.0.0.2' is not slowed down or blocked");
        System.Text.RegularExpressions.Regex.Count(events, "\"login\\.failed\"").Should().Be(5);
        System.Text.RegularExpressions.Regex.Count(events, "\"login\\.blocked\"").Should().Be(1);
        events.Should().Contain("\"login.unlocked\"");
        appliance.Server.Stderr.Should().Contain("Login refused from 127.0.0.2: blocked, wait 15 min")
            .And.Contain("Login blocked from 127.0.0.2 after 10 failures, for 15 min");
    }

    [Fact]
    public async Task WebForm_AfterFiveFailures_AsksToWait_TheSameForAnUnknownName()
    {
        using var deadline = TestDeadline.Start(120);
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        using var known = CaTrust.CreateClient(appliance.Ca, appliance.BaseAddress, null, IPAddress.Parse("127.0.0.3"));
        using var unknown = CaTrust.CreateClient(appliance.Ca, appliance.BaseAddress, null, IPAddress.Parse("127.0.0.4"));

        var pages = new Dictionary<string, (HttpStatusCode Status, string Body)>();
        foreach (var (client, name) in new[] { (known, "admin"), (unknown, "no-such-user") })
        {
            for (var i = 0; i < 5; i++)
            {
                (await WebLogin.PostAsync(client, name, "Wrong-Password-1234", deadline.Token)).Dispose();
            }

            using var sixth = await WebLogin.PostAsync(client, name, "Wrong-Password-1234", deadline.Token);
            pages[name] = (sixth.StatusCode, await sixth.Content.ReadAsStringAsync(deadline.Token));
        }

        // The admin sees both names and addresses on the users page and lifts one there (after the 1 s its own name now waits).
        await Task.Delay(TimeSpan.FromSeconds(1.2), deadline.Token);
        using var admin = appliance.CreateClient();
        (await WebLogin.PostAsync(admin, "admin", appliance.AdminPassword, deadline.Token)).Dispose();
        var usersPage = await admin.GetStringAsync("/admin/users", deadline.Token);
        using var unlockForm = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["subject"] = "127.0.0.3",
            ["__RequestVerificationToken"] = WebLogin.AntiforgeryToken(usersPage),
        });
        using var unlocked = await admin.PostAsync("/admin/users?handler=Unlock", unlockForm, deadline.Token);
        var afterUnlock = await unlocked.Content.ReadAsStringAsync(deadline.Token);

        usersPage.Should().Contain("<code>127.0.0.3</code>").And.Contain("<code>no-such-user</code>").And.Contain("slowed down");
        unlocked.StatusCode.Should().Be(HttpStatusCode.OK);
        afterUnlock.Should().Contain("Unlocked 127.0.0.3.").And.NotContain("<code>127.0.0.3</code>");
        pages["admin"].Status.Should().Be(HttpStatusCode.TooManyRequests);
        pages["admin"].Body.Should().Contain("Too many failed sign-ins from here or for this name. Try again in 1 s.");
        pages["no-such-user"].Status.Should().Be(pages["admin"].Status);
        pages["no-such-user"].Body.Should().Contain("Too many failed sign-ins from here or for this name. Try again in 1 s.");
    }
}
