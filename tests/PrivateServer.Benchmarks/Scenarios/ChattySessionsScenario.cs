using System.Diagnostics;
using System.Globalization;
using PrivateServer.Benchmarks.Load;
using PrivateServer.Benchmarks.Report;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.Benchmarks.Scenarios;

/// <summary>
/// Many concurrent sessions with VNC-like chatter: each echoes a 4 KiB message every 50 ms
/// through its own relay stream to its own host. Round-trip percentiles and server CPU.
/// </summary>
internal static class ChattySessionsScenario
{
    private const int MessageBytes = 4096;
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    /// <summary>Each session's phase within the interval is drawn from this (the same phases in every run).</summary>
    private const int PhaseSeed = 20261201;

    public static async Task RunAsync(BenchOptions options, int echoPort, BenchReport report, CancellationToken cancellationToken)
    {
        await using var rig = await SupportRig.StartAsync(cancellationToken, consent: "auto");
        var server = new ProcessMeter(rig.Appliance.Server.Id);
        // This process plays both module ends of every session (TLS each) and the echo service, on the same cores as the server.
        var load = new ProcessMeter(Environment.ProcessId);
        var hosts = await IdleHostsScenario.EnrollAsync(rig, options.ChattySessions, cancellationToken);
        var (client, token) = await RelayRig.SignInAsync(rig, cancellationToken);
        using var signedIn = client;
        var sessions = new List<SimulatedSupporter>();
        var streams = new List<Stream>();
        try
        {
            await IdleHostsScenario.ConnectAsync(hosts, echoPort, cancellationToken);
            foreach (var host in hosts)
            {
                var session = await SimulatedSupporter.ConnectAsync(client, token, host.HostId, ["tunnel:echo"], cancellationToken);
                sessions.Add(session);
                streams.Add(await session.OpenStreamAsync("echo", cancellationToken));
            }

            var roundTrips = new Samples();
            using var window = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            // Round trips that start before this are the warm-up (BenchOptions.ChatterWarmUp) and not counted.
            var counted = Stopwatch.GetTimestamp() + (long)(options.ChatterWarmUp.TotalSeconds * Stopwatch.Frequency);
            window.CancelAfter(options.ChatterWarmUp + options.ChatterDuration);
            using var pacer = new ChatterPacer(streams.Count, Interval, PhaseSeed);
            var chatter = streams.Select((s, i) => ChatAsync(s, pacer, i, counted, window.Token)).ToList();
            await Task.Delay(options.ChatterWarmUp, cancellationToken);
            var cpuBefore = server.CpuTime();
            var loadBefore = load.CpuTime();
            var clock = Stopwatch.StartNew();
            var perSession = await Task.WhenAll(chatter);
            var cpu = 100 * (server.CpuTime() - cpuBefore).TotalSeconds / clock.Elapsed.TotalSeconds;
            var loadCpu = 100 * (load.CpuTime() - loadBefore).TotalSeconds / clock.Elapsed.TotalSeconds;
            foreach (var value in perSession.SelectMany(v => v))
            {
                roundTrips.Add(value);
            }

            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  chatty sessions {streams.Count}: {roundTrips.Count} round trips, {LatencyScenario.Percentiles(roundTrips)} ms, server CPU {cpu:F1} % of a core, load process {loadCpu:F1} %"));
            report.Row(
                string.Create(CultureInfo.InvariantCulture, $"{streams.Count} sessions each echoing 4 KiB every 50 ms: round trip · server CPU (load process: the {2 * streams.Count} module ends and the echo service)"),
                string.Create(CultureInfo.InvariantCulture, $"{LatencyScenario.Percentiles(roundTrips)} ms · {cpu:F0} % of a core (load process {loadCpu:F0} %)"),
                string.Create(CultureInfo.InvariantCulture, $"{roundTrips.Count:N0} round trips in {options.ChatterDuration.TotalSeconds:F0} s, after {options.ChatterWarmUp.TotalSeconds:F0} s of chatter not counted"),
                string.Empty,
                "p99 ≤ 5 ms",
                roundTrips.Percentile(99) <= 5);
            report.Data("chattySessions", new { sessions = streams.Count, roundTrips = roundTrips.Count, p50Ms = roundTrips.Median, p99Ms = roundTrips.Percentile(99), maxMs = roundTrips.Max, serverCpuPercent = cpu, loadProcessCpuPercent = loadCpu, warmUpSeconds = options.ChatterWarmUp.TotalSeconds });
        }
        finally
        {
            foreach (var stream in streams)
            {
                await stream.DisposeAsync();
            }

            foreach (var session in sessions)
            {
                await session.DisposeAsync();
            }

            await Task.WhenAll(hosts.Select(h => h.DisposeAsync().AsTask()));
        }
    }

    private static async Task<List<double>> ChatAsync(Stream stream, ChatterPacer pacer, int session, long countedFrom, CancellationToken cancellationToken)
    {
        var samples = new List<double>();
        var message = new byte[MessageBytes];
        Random.Shared.NextBytes(message);
        var answer = new byte[MessageBytes];
        try
        {
            while (true)
            {
                await pacer.WaitAsync(session, cancellationToken);
                var start = Stopwatch.GetTimestamp();
                await stream.WriteAsync(message, cancellationToken);
                await stream.FlushAsync(cancellationToken);
                await stream.ReadExactlyAsync(answer, cancellationToken);
                if (start >= countedFrom)
                {
                    samples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The window is over.
        }

        return samples;
    }
}
