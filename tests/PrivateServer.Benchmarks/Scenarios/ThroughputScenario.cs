using System.Globalization;
using PrivateServer.Benchmarks.Report;
using PrivateServer.Benchmarks.Services;

namespace PrivateServer.Benchmarks.Scenarios;

/// <summary>Bulk throughput both ways: the relay versus direct loopback TCP and an OpenSSH tunnel, alternating, same run.</summary>
internal static class ThroughputScenario
{
    /// <summary>One path to the bulk service.</summary>
    /// <param name="Name">As the report names it.</param>
    /// <param name="Port">Where the client connects.</param>
    /// <param name="Settle">
    /// Called after each transfer, outside the timed part, until the contender's work for that transfer is done (the
    /// recorded relay: until the recording is hashed and saved); returns how long that took after the transfer.
    /// </param>
    public sealed record Contender(string Name, int Port, Func<CancellationToken, Task<TimeSpan>>? Settle = null);

    /// <summary>The relay of an appliance that records the stream (group policy recording on).</summary>
    public const string Recorded = "relay, recorded";

    /// <summary>The relay of an appliance started with the <c>--variant</c> settings.</summary>
    public const string Variant = "relay, variant";

    public static async Task RunAsync(BenchOptions options, IReadOnlyList<Contender> contenders, BenchReport report, CancellationToken cancellationToken)
    {
        var payload = BulkService.RandomPayload();
        var buffer = new byte[BulkService.ChunkLength];
        var up = contenders.ToDictionary(c => c.Name, _ => new Samples());
        var down = contenders.ToDictionary(c => c.Name, _ => new Samples());
        var settled = contenders.ToDictionary(c => c.Name, _ => new Samples());

        // Warm-up: JIT, pools, TCP windows — not counted.
        foreach (var contender in contenders)
        {
            await BulkService.UploadAsync(contender.Port, 64L << 20, payload, cancellationToken);
            await SettleAsync(contender, null, cancellationToken);
            await BulkService.DownloadAsync(contender.Port, 64L << 20, buffer, cancellationToken);
            await SettleAsync(contender, null, cancellationToken);
        }

        for (var repetition = 0; repetition < options.Repetitions; repetition++)
        {
            // Rotate the order so that no contender always runs first (or right after the busiest).
            foreach (var contender in contenders.Skip(repetition % contenders.Count).Concat(contenders.Take(repetition % contenders.Count)))
            {
                up[contender.Name].Add(MegabytesPerSecond(options.BulkBytes, await BulkService.UploadAsync(contender.Port, options.BulkBytes, payload, cancellationToken)));
                await SettleAsync(contender, settled[contender.Name], cancellationToken);
                down[contender.Name].Add(MegabytesPerSecond(options.BulkBytes, await BulkService.DownloadAsync(contender.Port, options.BulkBytes, buffer, cancellationToken)));
                await SettleAsync(contender, settled[contender.Name], cancellationToken);
                Console.Error.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"  throughput {repetition + 1}/{options.Repetitions} {contender.Name}: up {up[contender.Name].Values[^1]:F0} MB/s, down {down[contender.Name].Values[^1]:F0} MB/s"));
            }
        }

        var size = options.BulkBytes >= 1L << 30
            ? string.Create(CultureInfo.InvariantCulture, $"{options.BulkBytes / (double)(1L << 30):0.##} GiB")
            : string.Create(CultureInfo.InvariantCulture, $"{options.BulkBytes >> 20} MiB");
        AddRow(report, $"Throughput supporter→host, {size}, MB/s", up);
        AddRow(report, $"Throughput host→supporter, {size}, MB/s", down);
        if (up.ContainsKey(Recorded))
        {
            AddRecordingRow(report, $"… with server-side recording (group policy), supporter→host / host→supporter, MB/s", up, down, settled[Recorded], size);
        }

        if (up.ContainsKey(Variant))
        {
            AddVariantRow(report, $"… variant {options.VariantName}, supporter→host / host→supporter, MB/s", up, down);
        }

        report.Data("throughput", new
        {
            bytes = options.BulkBytes,
            repetitions = options.Repetitions,
            upMBps = up.ToDictionary(p => p.Key, p => p.Value.Values),
            downMBps = down.ToDictionary(p => p.Key, p => p.Value.Values),
            settledMs = settled.Where(p => p.Value.Values.Count > 0).ToDictionary(p => p.Key, p => p.Value.Values),
        });
    }

    private static void AddRow(BenchReport report, string measure, Dictionary<string, Samples> samples)
    {
        var relay = samples["relay"];
        var direct = samples["direct"];
        var ssh = samples["ssh -L"];
        var toDirect = relay.Median / direct.Median;
        var toSsh = relay.Median / ssh.Median;
        report.Row(
            measure,
            relay.MedianRange(0),
            $"direct {direct.MedianRange(0)}; ssh -L {ssh.MedianRange(0)}",
            string.Create(CultureInfo.InvariantCulture, $"{toDirect:F2}× direct; {toSsh:F2}× ssh"),
            "≥ 0.50× direct, ≥ 1.5× ssh",
            toDirect >= 0.5 && toSsh >= 1.5);
    }

    /// <summary>What recording costs: the recorded relay against the plain relay of the same run, both ways.</summary>
    private static void AddRecordingRow(BenchReport report, string measure, Dictionary<string, Samples> up, Dictionary<string, Samples> down, Samples saved, string size)
    {
        var upRatio = up[Recorded].Median / up["relay"].Median;
        var downRatio = down[Recorded].Median / down["relay"].Median;
        report.Row(
            measure,
            $"{up[Recorded].MedianRange(0)} / {down[Recorded].MedianRange(0)}",
            $"relay without recording {up["relay"].MedianRange(0)} / {down["relay"].MedianRange(0)}; each {size} recording hashed and saved {saved.MedianRange(0)} ms after its transfer",
            string.Create(CultureInfo.InvariantCulture, $"{upRatio:F2}× / {downRatio:F2}× relay"),
            "≥ 0.90× relay (≤ 10 % cost)",
            upRatio >= 0.9 && downRatio >= 0.9);
    }

    /// <summary>The variant against the plain relay of the same run, both ways; no target, a comparison.</summary>
    private static void AddVariantRow(BenchReport report, string measure, Dictionary<string, Samples> up, Dictionary<string, Samples> down) =>
        report.Row(
            measure,
            $"{up[Variant].MedianRange(0)} / {down[Variant].MedianRange(0)}",
            $"relay {up["relay"].MedianRange(0)} / {down["relay"].MedianRange(0)}",
            string.Create(CultureInfo.InvariantCulture, $"{up[Variant].Median / up["relay"].Median:F2}× / {down[Variant].Median / down["relay"].Median:F2}× relay"),
            "(comparison)",
            met: null);

    private static async Task SettleAsync(Contender contender, Samples? samples, CancellationToken cancellationToken)
    {
        if (contender.Settle is { } settle)
        {
            var took = await settle(cancellationToken);
            samples?.Add(took.TotalMilliseconds);
        }
    }

    private static double MegabytesPerSecond(long bytes, TimeSpan elapsed) => bytes / elapsed.TotalSeconds / 1e6;
}
