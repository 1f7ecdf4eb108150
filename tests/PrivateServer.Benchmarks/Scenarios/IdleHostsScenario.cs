using System.Diagnostics;
using System.Globalization;
using PrivateServer.Benchmarks.Load;
using PrivateServer.Benchmarks.Report;
using PrivateServer.IntegrationTests.Infrastructure;
using PrivateServer.Protocol.Transport;

namespace PrivateServer.Benchmarks.Scenarios;

/// <summary>
/// Idle hosts: N enrolled hosts (own keys and certificates, the real protocol) online at once.
/// Server memory per host, server CPU while they only send heartbeats, and the time until all
/// of a step are online — at each N of <see cref="BenchOptions.IdleHostSteps"/>.
/// </summary>
internal static class IdleHostsScenario
{
    private const int ParallelEnrolments = 8;
    private const int ParallelConnects = 64;

    public static async Task RunAsync(BenchOptions options, int echoPort, BenchReport report, CancellationToken cancellationToken)
    {
        await using var rig = await SupportRig.StartAsync(cancellationToken, consent: "auto");
        var server = new ProcessMeter(rig.Appliance.Server.Id);
        var hosts = await EnrollAsync(rig, options.IdleHostSteps[^1], cancellationToken);
        try
        {
            // The server's own footprint with every host enrolled and none online.
            await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);
            var baseline = server.ResidentBytes();
            var results = new List<object>();
            var online = 0;
            foreach (var step in options.IdleHostSteps)
            {
                var clock = Stopwatch.StartNew();
                await ConnectAsync(hosts.Skip(online).Take(step - online).ToList(), echoPort, cancellationToken);
                var connectTime = clock.Elapsed;
                var added = step - online;
                online = step;
                await Task.Delay(TimeSpan.FromSeconds(10), cancellationToken);
                // Idle CPU is mostly heartbeats: measure over at least two intervals, or a window could miss them.
                var heartbeat = TimeSpan.FromSeconds(hosts[0].HeartbeatSeconds);
                var window = options.IdleCpuWindow > heartbeat * 2 ? options.IdleCpuWindow : heartbeat * 2;
                var cpu = await server.CpuPercentAsync(window, cancellationToken);
                var resident = server.ResidentBytes();
                var perHost = (resident - baseline) / (double)step / 1024;
                Console.Error.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"  idle hosts {step}: {perHost:F1} KiB/host, RSS {resident >> 20} MiB (baseline {baseline >> 20} MiB), CPU {cpu:F2} % of a core, +{added} online in {connectTime.TotalSeconds:F1} s"));
                var target = step >= 10000 ? "≤ 40 KiB/host, CPU < 5 %" : "(reported)";
                report.Row(
                    string.Create(CultureInfo.InvariantCulture, $"{step:N0} idle hosts (heartbeat {heartbeat.TotalSeconds:F0} s): server RSS per host · idle CPU · time to bring {added:N0} online"),
                    string.Create(CultureInfo.InvariantCulture, $"{perHost:F1} KiB · {cpu:F2} % of a core · {connectTime.TotalSeconds:F1} s ({added / connectTime.TotalSeconds:F0}/s)"),
                    string.Create(CultureInfo.InvariantCulture, $"server RSS {resident >> 20} MiB, {baseline >> 20} MiB with none online"),
                    string.Empty,
                    target,
                    step >= 10000 ? perHost <= 40 && cpu < 5 : null);
                results.Add(new { hosts = step, heartbeatSeconds = heartbeat.TotalSeconds, cpuWindowSeconds = window.TotalSeconds, residentBytes = resident, baselineBytes = baseline, kibPerHost = perHost, idleCpuPercent = cpu, secondsToOnline = connectTime.TotalSeconds, added });
            }

            report.Data("idleHosts", results);
        }
        finally
        {
            await Task.WhenAll(hosts.Select(h => h.DisposeAsync().AsTask()));
        }
    }

    /// <summary>Enrols <paramref name="count"/> hosts with one multi-use token, a few at a time.</summary>
    public static async Task<List<SimulatedHost>> EnrollAsync(SupportRig rig, int count, CancellationToken cancellationToken)
    {
        var token = (await SupportRig.MustAsync(rig.Appliance.CliAsync(
            cancellationToken, "enroll-token", "create", "--group", SupportRig.Group, "--expires", "2h",
            "--uses", count.ToString(CultureInfo.InvariantCulture)))).Stdout.Trim();
        var server = new Uri(rig.ServerUrl);
        var pin = ModuleCommandLine.ParsePin(rig.Fingerprint);
        var hosts = new SimulatedHost[count];
        var clock = Stopwatch.StartNew();
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = ParallelEnrolments, CancellationToken = cancellationToken }, async (i, token2) =>
            hosts[i] = await SimulatedHost.EnrollAsync(server, pin, rig.Appliance.Ca, token, "load-" + i.ToString("D5", CultureInfo.InvariantCulture), token2));
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  enrolled {count} hosts in {clock.Elapsed.TotalSeconds:F1} s"));
        return [.. hosts];
    }

    /// <summary>Starts the hosts, at most <see cref="ParallelConnects"/> handshakes at a time, and waits until all are online.</summary>
    public static async Task ConnectAsync(IReadOnlyList<SimulatedHost> hosts, int echoPort, CancellationToken cancellationToken)
    {
        using var gate = new SemaphoreSlim(ParallelConnects);
        var all = hosts.Select(async host =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                host.Start(echoPort);
                await host.Online.WaitAsync(TimeSpan.FromMinutes(2), cancellationToken);
            }
            finally
            {
                gate.Release();
            }
        });
        await Task.WhenAll(all);
    }
}
