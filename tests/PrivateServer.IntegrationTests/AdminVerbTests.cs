using System.Net;
using System.Net.Http.Json;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>Admin verbs while the server runs: they go through the admin socket, not the database file.</summary>
public sealed class AdminVerbTests
{
    [Fact]
    public async Task UserAndGroupAdd_WhileServerRuns_TakeEffectAtOnce()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);

        var group = await appliance.CliAsync(deadline.Token, "group", "add", "helpdesk", "--unattended-consent", "auto");
        var user = await appliance.CliAsync(deadline.Token, "user", "add", "bob", "--role", "supporter", "--group", "helpdesk", "--email", "bob@example.internal");
        var groups = await appliance.CliAsync(deadline.Token, "group", "list");
        var users = await appliance.CliAsync(deadline.Token, "user", "list");

        group.ExitCode.Should().Be(0, group.Stderr);
        user.ExitCode.Should().Be(0, user.Stderr);
        user.Stdout.Should().MatchRegex("^[A-Za-z0-9]{20}\n$");
        groups.Stdout.Should().StartWith("helpdesk\tauto\t");
        users.Stdout.Split('\n').Should().Contain(l => l.StartsWith("bob\tsupporter\thelpdesk\tbob@example.internal\tactive", StringComparison.Ordinal));
        using var client = appliance.CreateClient();
        using var login = await WebLogin.PostAsync(client, "bob", user.Stdout.Trim(), deadline.Token);
        login.StatusCode.Should().Be(HttpStatusCode.Redirect);
        (await client.GetStringAsync("/", deadline.Token)).Should().Contain("Signed in as bob (supporter)");
        appliance.Server.Stderr.Should().Contain("User bob added with role Supporter");
    }

    [Fact]
    public async Task UserAdd_WithPasswordFileWhileServerRuns_UsesThatPasswordAndPrintsNothing()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        var passwordFile = Path.Combine(appliance.DataDirectory, "..", Path.GetFileName(appliance.DataDirectory) + "-pw");
        await File.WriteAllTextAsync(passwordFile, "Auditor-Password-2026\n", deadline.Token);

        var added = await appliance.CliAsync(deadline.Token, "user", "add", "audrey", "--role", "auditor", "--password-file", passwordFile);
        File.Delete(passwordFile);

        added.ExitCode.Should().Be(0, added.Stderr);
        added.Stdout.Should().BeEmpty();
        using var client = appliance.CreateClient();
        using var login = await WebLogin.PostAsync(client, "audrey", "Auditor-Password-2026", deadline.Token);
        login.StatusCode.Should().Be(HttpStatusCode.Redirect);
    }

    [Theory]
    [InlineData(new[] { "user", "add", "eve", "--role", "supporter", "--group", "ghosts" }, "privateserver: group 'ghosts' does not exist; create it first with 'privateserver group add ghosts'")]
    [InlineData(new[] { "user", "add", "admin", "--role", "admin" }, "privateserver: user 'admin' already exists")]
    [InlineData(new[] { "user", "add", "bad name", "--role", "admin" }, "privateserver: 'bad name' is not a valid user name")]
    public async Task AdminVerb_WhenRefusedByTheRunningServer_PrintsOneClearLineAndChangesNothing(string[] arguments, string expected)
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        var before = await appliance.CliAsync(deadline.Token, "user", "list");

        var refused = await appliance.CliAsync(deadline.Token, arguments);
        var after = await appliance.CliAsync(deadline.Token, "user", "list");

        refused.ExitCode.Should().Be(1);
        refused.Stdout.Should().BeEmpty();
        refused.StderrLines.Should().ContainSingle().Which.Should().StartWith(expected);
        after.Stdout.Should().Be(before.Stdout);
    }

    [Fact]
    public async Task AdminApi_WhenCalledOverTheNetwork_DoesNotExist()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        using var client = appliance.CreateClient();

        using var post = await client.PostAsJsonAsync("/admin/v1/users", new { name = "mallory", role = "admin" }, deadline.Token);
        using var list = await client.GetAsync("/admin/v1/users", deadline.Token);

        post.StatusCode.Should().Be(HttpStatusCode.NotFound);
        list.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await appliance.CliAsync(deadline.Token, "user", "list")).Stdout.Should().NotContain("mallory");
    }

    [Fact]
    public async Task AdminSocket_WhileServerRuns_IsOnlyForItsOwner()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);

        var socket = Path.Combine(appliance.DataDirectory, "admin.sock");

        File.GetUnixFileMode(socket).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.GetUnixFileMode(appliance.DataDirectory).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
