using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>Start, stop, restart and the ways a start must fail clearly.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task Restart_WhenStoppedWithSigterm_KeepsCaUsersAndGroups()
    {
        using var deadline = TestDeadline.Start(180);
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        var fingerprint = (await appliance.CliAsync(deadline.Token, "ca", "fingerprint")).Stdout;
        (await appliance.CliAsync(deadline.Token, "group", "add", "ops")).ExitCode.Should().Be(0);
        var password = (await appliance.CliAsync(deadline.Token, "user", "add", "carol", "--role", "admin", "--group", "ops")).Stdout.Trim();

        var stopped = await appliance.StopAsync(deadline.Token);
        await appliance.RunAsync(deadline.Token);

        stopped.ExitCode.Should().Be(0, stopped.Stderr);
        File.Exists(Path.Combine(appliance.DataDirectory, "admin.sock")).Should().BeTrue("the restarted server listens again");
        (await appliance.CliAsync(deadline.Token, "ca", "fingerprint")).Stdout.Should().Be(fingerprint);
        (await appliance.CliAsync(deadline.Token, "group", "list")).Stdout.Should().StartWith("ops\task\t");
        using var client = appliance.CreateClient();
        using var login = await WebLogin.PostAsync(client, "carol", password, deadline.Token);
        login.StatusCode.Should().Be(HttpStatusCode.Redirect);
        using var admin = await WebLogin.PostAsync(appliance.CreateClient(), "admin", appliance.AdminPassword, deadline.Token);
        admin.StatusCode.Should().Be(HttpStatusCode.Redirect);
    }

    [Fact]
    public async Task Stop_WhenSigtermArrives_ExitsZeroAndRemovesTheAdminSocket()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);

        var stopped = await appliance.StopAsync(deadline.Token);

        stopped.ExitCode.Should().Be(0);
        File.Exists(Path.Combine(appliance.DataDirectory, "admin.sock")).Should().BeFalse();
        (await appliance.CliAsync(deadline.Token, "user", "list")).ExitCode.Should().Be(0, "without a server the verbs open the database directly");
    }

    [Fact]
    public async Task SecondInit_OnAnInitialisedFolder_RefusesAndChangesNoByte()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.InitialiseAsync(deadline.Token);
        var before = Snapshot(appliance.DataDirectory);

        var again = await appliance.CliAsync(deadline.Token, "init", "--hostname", "other.example.internal");

        again.ExitCode.Should().NotBe(0);
        again.Stdout.Should().BeEmpty();
        again.StderrLines.Should().ContainSingle().Which.Should().Contain("already initialised");
        Snapshot(appliance.DataDirectory).Should().BeEquivalentTo(before);
    }

    [Fact]
    public async Task Run_WhenDatabaseIsCorrupt_PrintsOneClearLineAndExitsNonZero()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.InitialiseAsync(deadline.Token);
        var database = Path.Combine(appliance.DataDirectory, "privateserver.db");
        await File.WriteAllBytesAsync(database, RandomNumberGenerator.GetBytes(64 * 1024), deadline.Token);

        await using var server = appliance.StartServer(FreePort.Next());
        var result = await server.WaitForExitAsync(deadline.Token);

        result.ExitCode.Should().NotBe(0);
        result.Stdout.Should().BeEmpty();
        result.StderrLines.Should().ContainSingle().Which.Should().Contain(database).And.Contain("cannot be read");
    }

    [Fact]
    public async Task Run_WhenPortIsTaken_SaysSoClearlyWithoutAStackTrace()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.InitialiseAsync(deadline.Token);
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((IPEndPoint)squatter.LocalEndpoint).Port;

        await using var server = appliance.StartServer(port);
        var result = await server.WaitForExitAsync(deadline.Token);

        result.ExitCode.Should().NotBe(0);
        result.StderrLines[^1].Should().Be($"privateserver: cannot listen on https://127.0.0.1:{port}: Address already in use");
        result.Stderr.Should().NotContain("   at ");
        File.Exists(Path.Combine(appliance.DataDirectory, "admin.sock")).Should().BeFalse();
    }

    [Fact]
    public async Task Run_WhenAnotherServerOwnsTheFolder_RefusesAndLeavesItServing()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);

        await using var second = appliance.StartServer(FreePort.Next());
        var result = await second.WaitForExitAsync(deadline.Token);

        result.ExitCode.Should().NotBe(0);
        result.StderrLines.Should().ContainSingle().Which.Should().Contain("another privateserver is already running");
        (await appliance.CliAsync(deadline.Token, "user", "list")).Stdout.Should().StartWith("admin\t");
        using var client = appliance.CreateClient();
        (await client.GetAsync("/healthz", deadline.Token)).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Run_WhenNotInitialised_SaysHowToInitialise()
    {
        using var deadline = TestDeadline.Start();
        var data = Path.Combine(Path.GetTempPath(), "ps-it-empty-" + Guid.NewGuid().ToString("N")[..8]);

        var result = await ChildProcess.RunAsync(Programs.Appliance, ["run", "--data", data, "--urls", "https://127.0.0.1:1"], deadline.Token);

        result.ExitCode.Should().NotBe(0);
        result.Stderr.Should().Be($"privateserver: the data folder {data} is not initialised; run 'privateserver init --data {data}' first\n");
        Directory.Exists(data).Should().BeFalse();
    }

    [Fact]
    public async Task Logs_AfterInitRunAndLogins_HoldNoSecretButRecordTheFailure()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        using var client = appliance.CreateClient();
        (await WebLogin.PostAsync(client, "admin", "Wrong-Secret-Guess-1", deadline.Token)).Dispose();
        (await WebLogin.PostAsync(client, "admin", appliance.AdminPassword, deadline.Token)).Dispose();
        var supporter = (await appliance.CliAsync(deadline.Token, "user", "add", "dan", "--role", "supporter")).Stdout.Trim();
        var stopped = await appliance.StopAsync(deadline.Token);

        var logFiles = Directory.GetFiles(Path.Combine(appliance.DataDirectory, "logs"));
        var logs = string.Concat(logFiles.Select(File.ReadAllText)) + stopped.Stdout + stopped.Stderr;

        logFiles.Should().ContainSingle().Which.Should().MatchRegex(@"privateserver-\d{8}\.log$");
        logs.Should().Contain("Login failed for user admin from 127.0.0.1").And.Contain("Login of user admin from 127.0.0.1");
        var secrets = new[]
        {
            appliance.AdminPassword, supporter, "Wrong-Secret-Guess-1",
            (await File.ReadAllTextAsync(Path.Combine(appliance.DataDirectory, "keys", "db.key"), deadline.Token)).Trim(),
            (await File.ReadAllTextAsync(Path.Combine(appliance.DataDirectory, "keys", "master.key"), deadline.Token)).Trim(),
        };
        foreach (var secret in secrets)
        {
            logs.Should().NotContain(secret);
        }
    }

    private static Dictionary<string, string> Snapshot(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(p => p, p => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p))) + File.GetUnixFileMode(p));
}
