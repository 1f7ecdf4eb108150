using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>The admins' script library, run by a supporter on a real host module with its user's consent, and what the session protocol keeps.</summary>
public sealed class ScriptTests
{
    private const string Diagnose = "echo \"hello from $(hostname)\"\necho 'to stderr' >&2\nexit 3\n";

    [Fact]
    public async Task LibraryScript_RunsOnceTheHostsUserAllows_OutputAndExitCodeArrive_AndAreKeptInTheProtocol()
    {
        using var deadline = TestDeadline.Start(120);
        await using var rig = await SupportRig.StartAsync(deadline.Token, consent: "ask");
        var sha256 = await AddScriptAsync(rig, "diagnose", Diagnose, deadline.Token, "--group", SupportRig.Group);
        var state = await rig.EnrollHostAsync("script-pc", deadline.Token);
        var host = await rig.StartHostAsync(state, deadline.Token);

        var run = rig.Track(ChildProcess.Start(Programs.Supporter, ["script", "script-pc", "diagnose", "--state", rig.SupporterState]));
        await host.WaitForStderrAsync("Allow\\?", deadline.Token);
        await host.WriteLineAsync("y", deadline.Token);
        await host.WaitForStderrAsync($"{SupportRig.Supporter} wants to run the script 'diagnose' \\(bash\\) on this computer:\n{System.Text.RegularExpressions.Regex.Escape(Diagnose.Split('\n')[0])}", deadline.Token);
        await host.WaitForStderrAsync("Run it\\?", deadline.Token);
        await host.WriteLineAsync("y", deadline.Token);

        var result = await run.WaitForExitAsync(deadline.Token);
        result.ExitCode.Should().Be(3, "the supporter's command ends with the script's exit code:\n" + result.Stderr);
        result.Stdout.Should().Be($"hello from {Environment.MachineName}\n");
        result.Stderr.Should().Contain("to stderr\n").And.Contain("The script 'diagnose' ended with exit code 3.");
        await host.WaitForStderrAsync("The script 'diagnose' ended with exit code 3", deadline.Token);

        var audit = Path.Combine(rig.Root, "audit.csv");
        await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "audit", "export", "--format", "csv", "--out", audit));
        var lines = await File.ReadAllLinesAsync(audit, deadline.Token);
        lines.Should().Contain(l => l.Contains("script.added", StringComparison.Ordinal) && l.Contains(sha256, StringComparison.Ordinal));
        lines.Should().Contain(l => l.Contains("script.requested", StringComparison.Ordinal) && l.Contains(sha256, StringComparison.Ordinal));
        lines.Should().Contain(l => l.Contains("script.finished", StringComparison.Ordinal) && l.Contains("hello from", StringComparison.Ordinal) && l.Contains("exit-code", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Refusals_OtherGroupsScript_TheUsersNo_AndTheTimeLimit()
    {
        using var deadline = TestDeadline.Start(120);
        await using var rig = await SupportRig.StartAsync(deadline.Token, consent: "ask");
        await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "group", "add", "servers"));
        await AddScriptAsync(rig, "diagnose", Diagnose, deadline.Token, "--group", SupportRig.Group);
        await AddScriptAsync(rig, "reboot-db", "echo no\n", deadline.Token, "--group", "servers");
        await AddScriptAsync(rig, "hang", "sleep 30\n", deadline.Token, "--group", SupportRig.Group, "--timeout", "2s");
        var state = await rig.EnrollHostAsync("guarded-pc", deadline.Token);
        var host = await rig.StartHostAsync(state, deadline.Token);

        var foreign = rig.Track(ChildProcess.Start(Programs.Supporter, ["script", "guarded-pc", "reboot-db", "--state", rig.SupporterState]));
        await host.WaitForStderrAsync("Allow\\?", deadline.Token);
        await host.WriteLineAsync("y", deadline.Token);
        var refused = await foreign.WaitForExitAsync(deadline.Token);
        refused.ExitCode.Should().Be(1);
        refused.Stderr.Should().Contain("no script 'reboot-db' for your groups; yours: diagnose, hang");
        host.Stderr.Should().NotContain("echo no", "a script the supporter may not run is never shown to the host");

        var declined = rig.Track(ChildProcess.Start(Programs.Supporter, ["script", "guarded-pc", "diagnose", "--state", rig.SupporterState]));
        await host.WaitForStderrAsync("Allow\\?", deadline.Token, skip: 1);
        await host.WriteLineAsync("y", deadline.Token);
        await host.WaitForStderrAsync("Run it\\?", deadline.Token);
        await host.WriteLineAsync("n", deadline.Token);
        var no = await declined.WaitForExitAsync(deadline.Token);
        no.ExitCode.Should().Be(1);
        no.Stderr.Should().Contain("the script 'diagnose' was not run: the host's user refused");

        var slow = rig.Track(ChildProcess.Start(Programs.Supporter, ["script", "guarded-pc", "hang", "--state", rig.SupporterState]));
        await host.WaitForStderrAsync("Allow\\?", deadline.Token, skip: 2);
        await host.WriteLineAsync("y", deadline.Token);
        await host.WaitForStderrAsync("Run it\\?", deadline.Token, skip: 1);
        var started = DateTimeOffset.UtcNow;
        await host.WriteLineAsync("y", deadline.Token);
        var stopped = await slow.WaitForExitAsync(deadline.Token);
        stopped.ExitCode.Should().Be(124);
        stopped.Stderr.Should().Contain("stopped at its time limit");
        (DateTimeOffset.UtcNow - started).Should().BeLessThan(TimeSpan.FromSeconds(20), "the host stops it after 2 s, not after the script's 30");
        await host.WaitForStderrAsync("ran longer than 2 s and was stopped", deadline.Token);
    }

    private static async Task<string> AddScriptAsync(SupportRig rig, string name, string body, CancellationToken cancellationToken, params string[] options)
    {
        var file = Path.Combine(rig.Root, name + ".sh");
        await File.WriteAllTextAsync(file, body, cancellationToken);
        var added = await SupportRig.MustAsync(rig.Appliance.CliAsync(cancellationToken, ["script", "add", name, "--shell", "bash", "--file", file, .. options]));
        return added.Stdout.Trim();
    }
}
