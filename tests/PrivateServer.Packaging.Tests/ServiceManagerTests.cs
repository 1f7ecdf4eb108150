using System.Text.RegularExpressions;
using PrivateServer.IntegrationTests.Infrastructure;
using PrivateServer.Packaging.Tests.Infrastructure;

namespace PrivateServer.Packaging.Tests;

/// <summary>
/// The units are Type=notify: systemd counts a service as started only when it says READY=1. systemd is
/// not PID 1 here, so the test plays its part with the real protocol: the service's parent is a shell
/// named 'systemd' (how Microsoft.Extensions.Hosting.Systemd recognises its service manager) and
/// NOTIFY_SOCKET is the test's datagram socket.
/// </summary>
public sealed class ServiceManagerTests
{
    [Fact]
    public async Task ApplianceAndHostModule_SayReadyOnceTheyServe_AndStoppingOnSigterm()
    {
        using var deadline = TestDeadline.Start(240);
        var cancellationToken = deadline.Token;
        using var folder = Tool.TemporaryFolder();
        var appliance = Packages.Published("linux-x64", "privateserver");
        var hostModule = Packages.Published("linux-x64", "privateserver-host");
        var data = folder.File("data");
        await Tool.CheckAsync(appliance, ["init", "--data", data], cancellationToken);
        var systemd = folder.File("systemd");
        File.CreateSymbolicLink(systemd, "/bin/sh");
        var port = FreePort.Next();

        using var applianceManager = new NotifySocket(folder.File("appliance.notify"));
        await using var service = StartUnder(systemd, applianceManager, [appliance, "run", "--data", data, "--urls", $"https://127.0.0.1:{port}"]);
        (await applianceManager.WaitForAsync("READY=1", cancellationToken)).Should().NotContain("STOPPING=1");
        using var ca = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(Path.Combine(data, "ca", "ca.crt"));
        using var http = CaTrust.CreateClient(ca, new Uri($"https://127.0.0.1:{port}/"));
        (await http.GetStringAsync(new Uri("healthz", UriKind.Relative), cancellationToken)).Should().Contain("\"ok\"", "READY=1 comes once HTTPS is served");

        await Tool.CheckAsync(appliance, ["group", "add", "desks", "--data", data], cancellationToken);
        var token = (await Tool.CheckAsync(appliance, ["enroll-token", "create", "--group", "desks", "--data", data], cancellationToken)).Stdout.Trim();
        var fingerprint = (await Tool.CheckAsync(appliance, ["ca", "fingerprint", "--data", data], cancellationToken)).Stdout.Trim();
        var state = folder.File("host");
        await Tool.CheckAsync(
            hostModule,
            ["enroll", "--server", $"https://127.0.0.1:{port}", "--token", token, "--ca-fingerprint", fingerprint, "--name", "notified-pc", "--state", state],
            cancellationToken);

        using (var hostManager = new NotifySocket(folder.File("host.notify")))
        {
            await using var host = StartUnder(systemd, hostManager, [hostModule, "run", "--state", state]);
            await hostManager.WaitForAsync("READY=1", cancellationToken);
            await WaitUntilOnlineAsync(appliance, data, "notified-pc", cancellationToken);
            await StopAsync(host, hostManager, cancellationToken);
        }

        await StopAsync(service, applianceManager, cancellationToken);
    }

    private static ChildProcess StartUnder(string systemd, NotifySocket manager, IReadOnlyList<string> command) =>
        // "; exit $?" keeps the shell from exec-ing the program, so it stays the parent, as systemd does.
        ChildProcess.Start(systemd, ["-c", "\"$@\"; exit $?", "systemd", .. command], new Dictionary<string, string> { ["NOTIFY_SOCKET"] = manager.Path });

    /// <summary>SIGTERM to the service (the shell's child), as systemctl stop sends it; it must say STOPPING=1 and end with 0.</summary>
    private static async Task StopAsync(ChildProcess parent, NotifySocket manager, CancellationToken cancellationToken)
    {
        var child = File.ReadAllText($"/proc/{parent.Id}/task/{parent.Id}/children").Trim();
        child.Should().MatchRegex("^[0-9]+$", "the service runs as the shell's only child");
        await Tool.CheckAsync("kill", ["-TERM", child], cancellationToken);
        await manager.WaitForAsync("STOPPING=1", cancellationToken);
        (await parent.WaitForExitAsync(cancellationToken)).ExitCode.Should().Be(0, "the service ends cleanly:\n" + parent.Stderr);
    }

    private static async Task WaitUntilOnlineAsync(string appliance, string data, string name, CancellationToken cancellationToken)
    {
        while (!Regex.IsMatch(
            (await Tool.CheckAsync(appliance, ["host", "list", "--data", data], cancellationToken)).Stdout, $@"^{name}\t[^\t]+\t[^\t]+\tonline\t", RegexOptions.Multiline))
        {
            await Task.Delay(200, cancellationToken);
        }
    }
}
