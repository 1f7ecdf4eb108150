using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using PrivateServer.Benchmarks.Load;
using PrivateServer.Benchmarks.Peers;
using PrivateServer.Benchmarks.Report;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.Benchmarks.Scenarios;

/// <summary>
/// Session set-up: connect request → automatic consent → a stream → the first echoed byte.
/// Measured twice: the protocol alone (a signed-in supporter in this process, as a console or
/// the web viewer would run it) and a fresh <c>privateserver-supporter connect</c> process, each
/// against a fresh <c>ssh -L</c> process doing the same.
/// </summary>
internal static class SessionScenario
{
    public static async Task RunAsync(BenchOptions options, RelayRig rig, PrivateSshd sshd, int echoPort, BenchReport report, CancellationToken cancellationToken)
    {
        var (client, token) = await RelayRig.SignInAsync(rig.Rig, cancellationToken);
        using (client)
        {
            var protocol = new Samples();
            var ssh = new Samples();
            for (var i = 0; i < 5; i++)
            {
                await SessionToFirstEchoAsync(rig, client, token, cancellationToken);
            }

            for (var i = 0; i < options.SessionSamples; i++)
            {
                protocol.Add((await SessionToFirstEchoAsync(rig, client, token, cancellationToken)).TotalMilliseconds);
                ssh.Add((await SshForward.TimeFreshForwardToFirstEchoAsync(sshd, echoPort, cancellationToken)).TotalMilliseconds);
            }

            var fresh = new Samples();
            var freshSsh = new Samples();
            var processSamples = Math.Max(5, options.SessionSamples / 5);
            for (var i = 0; i < processSamples; i++)
            {
                fresh.Add((await FreshConnectToFirstEchoAsync(rig, cancellationToken)).TotalMilliseconds);
                freshSsh.Add((await SshForward.TimeFreshForwardToFirstEchoAsync(sshd, echoPort, cancellationToken)).TotalMilliseconds);
            }

            report.Row(
                $"Session set-up (connect → auto-consent → first echoed byte), {options.SessionSamples} samples, ms",
                LatencyScenario.Percentiles(protocol),
                $"fresh ssh -L process {LatencyScenario.Percentiles(ssh)}",
                string.Create(CultureInfo.InvariantCulture, $"p50 {protocol.Median / ssh.Median:F2}× ssh"),
                "p50 ≤ 30 ms",
                protocol.Median <= 30);
            report.Row(
                $"… the same from a fresh `privateserver-supporter connect` process (incl. .NET start), {processSamples} samples, ms",
                LatencyScenario.Percentiles(fresh),
                $"fresh ssh -L process {LatencyScenario.Percentiles(freshSsh)}",
                string.Create(CultureInfo.InvariantCulture, $"p50 {fresh.Median / freshSsh.Median:F2}× ssh"),
                "(none)",
                null);
            Console.Error.WriteLine($"  session set-up: protocol {LatencyScenario.Percentiles(protocol)}, fresh process {LatencyScenario.Percentiles(fresh)}, ssh {LatencyScenario.Percentiles(ssh)}");
            report.Data("sessionSetupMs", new
            {
                protocol = new { p50 = protocol.Median, p99 = protocol.Percentile(99) },
                freshProcess = new { p50 = fresh.Median, p99 = fresh.Percentile(99) },
                ssh = new { p50 = ssh.Median, p99 = ssh.Percentile(99) },
                sshDuringProcessRuns = new { p50 = freshSsh.Median, p99 = freshSsh.Percentile(99) },
            });
        }
    }

    private static async Task<TimeSpan> SessionToFirstEchoAsync(RelayRig rig, Protocol.Transport.ModuleClient client, string token, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await using var session = await SimulatedSupporter.ConnectAsync(client, token, RelayRig.HostName, ["tunnel:echo"], cancellationToken);
        await using var stream = await session.OpenStreamAsync("echo", cancellationToken);
        var one = new byte[] { 7 };
        await stream.WriteAsync(one, cancellationToken);
        await stream.FlushAsync(cancellationToken);
        if (await stream.ReadAsync(one, cancellationToken) != 1)
        {
            throw new IOException("the echo stream closed without answering");
        }

        return clock.Elapsed;
    }

    private static async Task<TimeSpan> FreshConnectToFirstEchoAsync(RelayRig rig, CancellationToken cancellationToken)
    {
        var port = FreePort.Next();
        var clock = Stopwatch.StartNew();
        await using var connect = ChildProcess.Start(
            Programs.Supporter, ["connect", RelayRig.HostName, "--state", rig.Rig.SupporterState, "--forward", "echo=" + port.ToString(CultureInfo.InvariantCulture)]);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (connect.HasExited)
            {
                throw new IOException("privateserver-supporter connect ended: " + connect.Stderr);
            }

            try
            {
                await LatencyScenario.FirstEchoAsync(port, cancellationToken);
                return clock.Elapsed;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
            {
                // Not listening yet: the session is still being set up.
                await Task.Delay(1, cancellationToken);
            }
        }
    }
}
