using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using PrivateServer.Benchmarks.Load;
using PrivateServer.Benchmarks.Report;

namespace PrivateServer.Benchmarks.Scenarios;

/// <summary>Stream set-up: a new TCP connection to an existing forward until the first echoed byte returns; back to back, then spaced.</summary>
internal static class LatencyScenario
{
    public static async Task RunAsync(BenchOptions options, IReadOnlyList<ThroughputScenario.Contender> echoes, BenchReport report, CancellationToken cancellationToken)
    {
        var warming = Stopwatch.StartNew();
        var order = new Random(Seed);
        // At least 50 streams each, and then until the warm-up time is over (see BenchOptions.StreamWarmUp).
        for (var i = 0; i < 50 || warming.Elapsed < options.StreamWarmUp; i++)
        {
            foreach (var echo in InRandomOrder(echoes, order))
            {
                await FirstEchoAsync(echo.Port, cancellationToken);
            }
        }

        var (samples, cpu) = await SampleAsync(echoes, options.StreamSamples, options.StreamGap, cancellationToken);
        Report(
            options, samples, report,
            $"{options.StreamSamples} samples" + (options.StreamGap > TimeSpan.Zero ? string.Create(CultureInfo.InvariantCulture, $", {options.StreamGap.TotalMilliseconds:0} ms apart") : string.Empty));
        ReportCpu(cpu, report);
        if (options.SpacedStreamSamples > 0 && options.StreamGap == TimeSpan.Zero)
        {
            var (spaced, _) = await SampleAsync(echoes, options.SpacedStreamSamples, BenchOptions.SpacedStreamGap, cancellationToken);
            Report(
                options, spaced, report,
                string.Create(CultureInfo.InvariantCulture, $"{options.SpacedStreamSamples} samples {BenchOptions.SpacedStreamGap.TotalMilliseconds:0} ms apart (each module's spare ready)"));
        }
    }

    /// <summary>CPU time per stream of every process on a contender's path (the first, the appliance, also alone), in ms.</summary>
    private sealed record StreamCpu(double All, double First);

    /// <remarks>
    /// Back to back only: spaced, the gaps' idle CPU would count too. Each relay stream costs two relay connections (its
    /// own or its spares' replacements: TCP, TLS, the upgrade and its authentication) besides the stream itself.
    /// </remarks>
    private static void ReportCpu(Dictionary<string, StreamCpu> cpu, BenchReport report)
    {
        if (!cpu.TryGetValue("relay", out var relay) || !cpu.TryGetValue("ssh -L", out var ssh))
        {
            return;
        }

        var line = string.Create(CultureInfo.InvariantCulture, $"{relay.All:F2} (appliance {relay.First:F2})");
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  stream set-up CPU per stream, back to back, ms: relay {line}, ssh -L {ssh.All:F2}"));
        report.Row(
            "CPU per stream set-up back to back, every process on the path, ms (relay: appliance and both modules; ssh -L: ssh and sshd)",
            line,
            string.Create(CultureInfo.InvariantCulture, $"ssh -L {ssh.All:F2}"),
            string.Create(CultureInfo.InvariantCulture, $"{relay.All / ssh.All:F1}× ssh"),
            "(reported)",
            met: null);
    }

    /// <summary>The order of the contenders in each round is drawn from a generator with this seed: the same in every run.</summary>
    private const int Seed = 20261201;

    /// <summary>
    /// A new order for each round. In a fixed order every contender always followed the same one, and a relay's stream
    /// goes on ending (end frames, the connections given back) after its first echo: the contender after a relay was
    /// measured while that ran, the one after <c>direct</c> on a quiet machine. An A/A run (`--variant` with a variable
    /// nothing reads) measured the variant, which followed <c>direct</c>, at 0.87× the relay back to back.
    /// </summary>
    private static ThroughputScenario.Contender[] InRandomOrder(IReadOnlyList<ThroughputScenario.Contender> echoes, Random order)
    {
        var round = echoes.ToArray();
        order.Shuffle(round);
        return round;
    }

    /// <summary>
    /// First-echo times of every contender, interleaved (one sample of each per round, in a new order each round: drift
    /// on the machine and the contender before hit every contender alike), with <paramref name="gap"/> after each sample.
    /// </summary>
    private static async Task<(Dictionary<string, Samples> Samples, Dictionary<string, StreamCpu> Cpu)> SampleAsync(
        IReadOnlyList<ThroughputScenario.Contender> echoes, int count, TimeSpan gap, CancellationToken cancellationToken)
    {
        var samples = echoes.ToDictionary(c => c.Name, _ => new Samples(), StringComparer.Ordinal);
        // Each contender's processes are its own, so their CPU over the interleaved loop is theirs alone.
        var meters = echoes.Where(c => c.Path is not null).ToDictionary(c => c.Name, c => PathCpuMeter.Start(c.Path)!, StringComparer.Ordinal);
        var order = new Random(Seed);
        for (var i = 0; i < count; i++)
        {
            foreach (var echo in InRandomOrder(echoes, order))
            {
                samples[echo.Name].Add((await FirstEchoAsync(echo.Port, cancellationToken)).TotalMilliseconds);
                if (gap > TimeSpan.Zero)
                {
                    await Task.Delay(gap, cancellationToken);
                }
            }
        }

        var cpu = meters.ToDictionary(
            m => m.Key,
            m =>
            {
                var (all, first) = m.Value.Used();
                return new StreamCpu(all.TotalMilliseconds / count, first.TotalMilliseconds / count);
            },
            StringComparer.Ordinal);
        return (samples, cpu);
    }

    private static void Report(BenchOptions options, Dictionary<string, Samples> samples, BenchReport report, string how)
    {
        var relay = samples["relay"];
        var ssh = samples["ssh -L"];
        var direct = samples["direct"];
        Console.Error.WriteLine($"  stream set-up, {how}: relay {Percentiles(relay)}, ssh {Percentiles(ssh)}, direct {Percentiles(direct)}");
        report.Row(
            $"Stream set-up (new TCP connection → first echoed byte), {how}, ms",
            Percentiles(relay),
            $"ssh -L {Percentiles(ssh)}; direct {Percentiles(direct)}",
            string.Create(CultureInfo.InvariantCulture, $"p50 {relay.Median / ssh.Median:F2}× ssh"),
            "p50 ≤ 1 ms, p99 ≤ 5 ms",
            relay.Median <= 1 && relay.Percentile(99) <= 5);
        if (samples.TryGetValue(ThroughputScenario.Variant, out var variant))
        {
            report.Row(
                $"… variant {options.VariantName}, stream set-up, {how}, ms",
                Percentiles(variant),
                $"relay {Percentiles(relay)}",
                string.Create(CultureInfo.InvariantCulture, $"p50 {variant.Median / relay.Median:F2}× relay"),
                "(comparison)",
                met: null);
        }
    }

    public static string Percentiles(Samples samples) =>
        string.Create(CultureInfo.InvariantCulture, $"p50 {samples.Median:F2} / p99 {samples.Percentile(99):F2}");

    /// <summary>Connect, send one byte, wait for it to come back.</summary>
    public static async Task<TimeSpan> FirstEchoAsync(int port, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
        var one = new byte[] { 42 };
        await socket.SendAsync(one, cancellationToken);
        if (await socket.ReceiveAsync(one, cancellationToken) != 1)
        {
            throw new IOException($"the echo through port {port} closed without answering");
        }

        var elapsed = clock.Elapsed;
        socket.Shutdown(SocketShutdown.Both);
        return elapsed;
    }
}
