using System.Globalization;
using PrivateServer.IntegrationTests.Infrastructure;
using PrivateServer.Protocol.SystemInfo;

namespace PrivateServer.IntegrationTests;

/// <summary>The supporter's <c>sysinfo</c> against a real host module on this machine: the facts must be this machine's.</summary>
public sealed class SystemInfoTests
{
    [Fact]
    public async Task SystemInfo_DescribesThisMachine_AndTheHostsUserIsTold()
    {
        using var deadline = TestDeadline.Start(120);
        await using var rig = await SupportRig.StartAsync(deadline.Token, consent: "auto");
        var state = await rig.EnrollHostAsync("info-pc", deadline.Token);
        var host = await rig.StartHostAsync(state, deadline.Token);

        var json = await SupportRig.MustAsync(ChildProcess.RunAsync(Programs.Supporter, ["sysinfo", "info-pc", "--json", "--state", rig.SupporterState], deadline.Token));
        var report = SystemReport.FromJson(System.Text.Encoding.UTF8.GetBytes(json.Stdout));

        report.ComputerName.Should().Be(Environment.MachineName);
        report.Os.Should().Contain("Linux");
        report.Cpu.LogicalProcessors.Should().Be(Environment.ProcessorCount);
        report.Cpu.Model.Should().NotBeNullOrWhiteSpace();
        report.Cpu.LoadAverage.Should().HaveCount(3);
        report.Memory.TotalBytes.Should().Be(MemInfo("MemTotal"));
        report.Memory.AvailableBytes.Should().BeInRange(1, report.Memory.TotalBytes);
        var uptime = double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], CultureInfo.InvariantCulture);
        report.UptimeSeconds.Should().BeCloseTo((long)uptime, 30);
        report.Disks.Should().Contain(d => d.Mount == "/" && d.TotalBytes > 0 && d.FreeBytes <= d.TotalBytes);
        report.Networks.Should().Contain(n => n.Name == "lo" && n.Addresses.Contains("127.0.0.1/8"));
        // Which processes make the top list depends on what runs beside this test (browsers of other tests, appliances):
        // the test run itself, hundreds of MiB, is among the largest on this machine.
        report.TopByMemory.Should().BeInDescendingOrder(p => p.MemoryBytes);
        report.TopByMemory.Should().Contain(p => p.Id == Environment.ProcessId && p.MemoryBytes > 50 * 1024 * 1024, "the largest processes of this machine are listed");
        report.TopByCpu.Should().NotBeEmpty().And.OnlyContain(p => p.CpuPercent >= 0);
        report.ModuleVersion.Should().NotBeNullOrWhiteSpace();
        report.At.Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1));
        report.Notes.Should().Contain("services: systemd is not running here", "what could not be read is said, not left empty");
        await host.WaitForStderrAsync("The supporter read this computer's system information", deadline.Token);

        var text = await SupportRig.MustAsync(ChildProcess.RunAsync(Programs.Supporter, ["sysinfo", "info-pc", "--state", rig.SupporterState], deadline.Token));
        text.Stdout.Should().Contain("CPU:\n").And.Contain($"  logical processors: {Environment.ProcessorCount}\n").And.Contain("Disks:\n  /: ");
    }

    [Fact]
    public async Task SystemInfo_IsRefused_OnceTheAdminTakesItOutOfTheGroupsPolicy()
    {
        using var deadline = TestDeadline.Start(120);
        await using var rig = await SupportRig.StartAsync(deadline.Token, consent: "auto");
        var state = await rig.EnrollHostAsync("private-pc", deadline.Token);
        await rig.StartHostAsync(state, deadline.Token);
        (await SupportRig.MustAsync(ChildProcess.RunAsync(Programs.Supporter, ["sysinfo", "private-pc", "--state", rig.SupporterState], deadline.Token)))
            .Stdout.Should().Contain("System:");

        // The admin takes system information out of the group's policy in the admin center, as a person would.
        using var client = rig.Appliance.CreateClient();
        (await WebLogin.PostAsync(client, "admin", rig.Appliance.AdminPassword, deadline.Token)).Dispose();
        var page = await client.GetStringAsync("/admin/groups", deadline.Token);
        page.Should().Contain("name=\"maxFileSizeMiB\"").And.Contain("value=\"1024\"");
        using var form = new FormUrlEncodedContent(
        [
            new("name", SupportRig.Group), new("consent", "auto"), new("features", "view"), new("features", "control"), new("features", "tunnels"),
            new("maxFileSizeMiB", "1024"), new("__RequestVerificationToken", WebLogin.AntiforgeryToken(page)),
        ]);
        using var saved = await client.PostAsync(new Uri("/admin/groups?handler=Policy", UriKind.Relative), form, deadline.Token);
        saved.EnsureSuccessStatusCode();

        var refused = await ChildProcess.RunAsync(Programs.Supporter, ["sysinfo", "private-pc", "--state", rig.SupporterState], deadline.Token);
        refused.ExitCode.Should().Be(1);
        refused.Stderr.Should().Contain("does not allow sysinfo");
    }

    private static long MemInfo(string field) =>
        long.Parse(File.ReadAllLines("/proc/meminfo").Single(l => l.StartsWith(field + ":", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
}
