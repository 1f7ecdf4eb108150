using System.Globalization;
using PrivateServer.Benchmarks.Load;
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
    /// <param name="Path">
    /// The processes every byte passes between the bench's client and its bulk service (read before each transfer),
    /// whose CPU time per GiB is reported; for the relays the appliance first, reported on its own too. Null: none.
    /// </param>
    public sealed record Contender(string Name, int Port, Func<CancellationToken, Task<TimeSpan>>? Settle = null, Func<IReadOnlyList<int>>? Path = null);

    /// <summary>The relay of an appliance that records the stream (group policy recording on).</summary>
    public const string Recorded = "relay, recorded";

    /// <summary>The relay's topology in C: three HAProxy processes, four TLS ends (<see cref="Peers.HaproxyChain"/>).</summary>
    public const string Haproxy = "HAProxy ×3";

    /// <summary>The relay of an appliance started with the <c>--variant</c> settings.</summary>
    public const string Variant = "relay, variant";

    public static async Task RunAsync(BenchOptions options, IReadOnlyList<Contender> contenders, BenchReport report, CancellationToken cancellationToken)
    {
        var payload = BulkService.RandomPayload();
        var buffer = new byte[BulkService.ChunkLength];
        var up = contenders.ToDictionary(c => c.Name, _ => new Samples());
        var down = contenders.ToDictionary(c => c.Name, _ => new Samples());
        var settled = contenders.ToDictionary(c => c.Name, _ => new Samples());
        var cpuUp = contenders.ToDictionary(c => c.Name, _ => new Samples());
        var cpuDown = contenders.ToDictionary(c => c.Name, _ => new Samples());
        var serverUp = contenders.ToDictionary(c => c.Name, _ => new Samples());
        var serverDown = contenders.ToDictionary(c => c.Name, _ => new Samples());
        var machineUp = contenders.ToDictionary(c => c.Name, _ => new MachineSamples());
        var machineDown = contenders.ToDictionary(c => c.Name, _ => new MachineSamples());
        var gibibytes = options.BulkBytes / (double)(1L << 30);

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
                // CPU from the transfer's start until its work is done (the recording saved), per GiB moved.
                var meter = PathCpuMeter.Start(contender.Path);
                var machine = MachineCpuMeter.Start();
                up[contender.Name].Add(MegabytesPerSecond(options.BulkBytes, await BulkService.UploadAsync(contender.Port, options.BulkBytes, payload, cancellationToken)));
                machineUp[contender.Name].Add(machine, gibibytes);
                await SettleAsync(contender, settled[contender.Name], cancellationToken);
                AddCpu(meter, cpuUp[contender.Name], serverUp[contender.Name], gibibytes);
                meter = PathCpuMeter.Start(contender.Path);
                machine = MachineCpuMeter.Start();
                down[contender.Name].Add(MegabytesPerSecond(options.BulkBytes, await BulkService.DownloadAsync(contender.Port, options.BulkBytes, buffer, cancellationToken)));
                machineDown[contender.Name].Add(machine, gibibytes);
                await SettleAsync(contender, settled[contender.Name], cancellationToken);
                AddCpu(meter, cpuDown[contender.Name], serverDown[contender.Name], gibibytes);
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
        AddCpuRow(report, "CPU per GiB moved, every process on the path, supporter→host / host→supporter, s (relay: appliance and both modules; ssh -L: ssh and sshd)", cpuUp, cpuDown, serverUp, serverDown);
        AddMachineRow(report, up, down, machineUp, machineDown);
        if (up.ContainsKey(Haproxy))
        {
            AddSameTopologyRow(report, size, up, down, cpuUp, cpuDown, serverUp, serverDown);
        }

        if (up.ContainsKey(Recorded))
        {
            AddRecordingRow(report, $"… with server-side recording (group policy), supporter→host / host→supporter, MB/s", up, down, settled[Recorded], size);
        }

        if (up.ContainsKey(Variant))
        {
            AddVariantRow(report, $"… variant {options.VariantName}, supporter→host / host→supporter, MB/s", up, down, cpuUp, cpuDown);
        }

        report.Data("throughput", new
        {
            bytes = options.BulkBytes,
            repetitions = options.Repetitions,
            upMBps = up.ToDictionary(p => p.Key, p => p.Value.Values),
            downMBps = down.ToDictionary(p => p.Key, p => p.Value.Values),
            settledMs = settled.Where(p => p.Value.Values.Count > 0).ToDictionary(p => p.Key, p => p.Value.Values),
            cpuSecondsPerGiBUp = cpuUp.Where(p => p.Value.Count > 0).ToDictionary(p => p.Key, p => p.Value.Values),
            cpuSecondsPerGiBDown = cpuDown.Where(p => p.Value.Count > 0).ToDictionary(p => p.Key, p => p.Value.Values),
            applianceCpuSecondsPerGiBUp = serverUp.Where(p => p.Value.Count > 0 && p.Key != "ssh -L").ToDictionary(p => p.Key, p => p.Value.Values),
            applianceCpuSecondsPerGiBDown = serverDown.Where(p => p.Value.Count > 0 && p.Key != "ssh -L").ToDictionary(p => p.Key, p => p.Value.Values),
            machineCpuSecondsPerGiBUp = machineUp.ToDictionary(p => p.Key, p => p.Value.Machine.Values),
            machineCpuSecondsPerGiBDown = machineDown.ToDictionary(p => p.Key, p => p.Value.Machine.Values),
            machineBusySharesUp = machineUp.ToDictionary(p => p.Key, p => p.Value.Busy.Values),
            machineBusySharesDown = machineDown.ToDictionary(p => p.Key, p => p.Value.Busy.Values),
            benchProcessCpuSecondsPerGiBUp = machineUp.ToDictionary(p => p.Key, p => p.Value.Bench.Values),
            benchProcessCpuSecondsPerGiBDown = machineDown.ToDictionary(p => p.Key, p => p.Value.Bench.Values),
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

    /// <summary>
    /// The CPU time a GiB costs the processes on each path: steadier than MB/s on a small shared machine, where the
    /// contenders' own processes compete with the bench's client and service for the same cores.
    /// </summary>
    private static void AddCpuRow(
        BenchReport report, string measure, Dictionary<string, Samples> up, Dictionary<string, Samples> down, Dictionary<string, Samples> serverUp, Dictionary<string, Samples> serverDown)
    {
        if (up["relay"].Count == 0 || up["ssh -L"].Count == 0)
        {
            return;
        }

        report.Row(
            measure,
            $"{up["relay"].MedianRange(2)} / {down["relay"].MedianRange(2)} (appliance {serverUp["relay"].MedianRange(2)} / {serverDown["relay"].MedianRange(2)})",
            $"ssh -L {up["ssh -L"].MedianRange(2)} / {down["ssh -L"].MedianRange(2)}",
            string.Create(CultureInfo.InvariantCulture, $"{up["relay"].Median / up["ssh -L"].Median:F2}× / {down["relay"].Median / down["ssh -L"].Median:F2}× ssh"),
            "(reported)",
            met: null);
    }

    /// <summary>The variant against the plain relay of the same run, both ways; no target, a comparison.</summary>
    private static void AddVariantRow(
        BenchReport report, string measure, Dictionary<string, Samples> up, Dictionary<string, Samples> down, Dictionary<string, Samples> cpuUp, Dictionary<string, Samples> cpuDown) =>
        report.Row(
            measure,
            $"{up[Variant].MedianRange(0)} / {down[Variant].MedianRange(0)}; CPU {cpuUp[Variant].MedianRange(2)} / {cpuDown[Variant].MedianRange(2)} s per GiB",
            $"relay {up["relay"].MedianRange(0)} / {down["relay"].MedianRange(0)}; CPU {cpuUp["relay"].MedianRange(2)} / {cpuDown["relay"].MedianRange(2)} s per GiB",
            string.Create(
                CultureInfo.InvariantCulture,
                $"{up[Variant].Median / up["relay"].Median:F2}× / {down[Variant].Median / down["relay"].Median:F2}× relay; CPU {cpuUp[Variant].Median / cpuUp["relay"].Median:F2}× / {cpuDown[Variant].Median / cpuDown["relay"].Median:F2}×"),
            "(comparison)",
            met: null);

    /// <summary>
    /// The CPU a GiB costs the whole machine (every process and the kernel), against what the targets leave: on a machine
    /// whose cores all run the paths and the bench, MB/s is the cores' time divided by this. So 1.5× ssh -L's MB/s leaves
    /// the relay at most the cores' time per GiB at that speed — what the row compares.
    /// </summary>
    private static void AddMachineRow(
        BenchReport report, Dictionary<string, Samples> up, Dictionary<string, Samples> down, Dictionary<string, MachineSamples> machineUp, Dictionary<string, MachineSamples> machineDown)
    {
        var cores = report.Machine.Cores;

        // Seconds of all cores per GiB at 1.5× ssh -L's median MB/s.
        double Budget(Dictionary<string, Samples> speeds) => cores * (1L << 30) / 1e6 / (1.5 * speeds["ssh -L"].Median);
        var budgetUp = Budget(up);
        var budgetDown = Budget(down);
        string Of(string name) => string.Create(
            CultureInfo.InvariantCulture,
            $"{machineUp[name].Machine.MedianRange(2)} / {machineDown[name].Machine.MedianRange(2)} (cores busy {machineUp[name].Busy.Median * 100:F0} / {machineDown[name].Busy.Median * 100:F0} %, the bench's client and service {machineUp[name].Bench.Median:F2} / {machineDown[name].Bench.Median:F2})");
        report.Row(
            $"Machine CPU per GiB moved (all {cores} cores' busy time, kernel included), supporter→host / host→supporter, s",
            Of("relay"),
            $"ssh -L {Of("ssh -L")}; direct {Of("direct")}" + (machineUp.ContainsKey(Haproxy) ? $"; {Haproxy} {Of(Haproxy)}" : string.Empty),
            string.Create(
                CultureInfo.InvariantCulture,
                $"1.5× ssh -L's MB/s leaves ≤ {budgetUp:F2} / {budgetDown:F2}: the relay spends {machineUp["relay"].Machine.Median / budgetUp:F1}× / {machineDown["relay"].Machine.Median / budgetDown:F1}× that"),
            "(reported)",
            met: null);
    }

    /// <summary>
    /// The relay's topology built from a C proxy, against the relay and ssh -L: how fast four TLS ends in three processes
    /// can move bytes on this machine at all, and how close the relay comes to it.
    /// </summary>
    private static void AddSameTopologyRow(
        BenchReport report, string size, Dictionary<string, Samples> up, Dictionary<string, Samples> down,
        Dictionary<string, Samples> cpuUp, Dictionary<string, Samples> cpuDown, Dictionary<string, Samples> middleUp, Dictionary<string, Samples> middleDown) =>
        report.Row(
            $"The relay's topology in C: three HAProxy processes, plain TCP → TLS 1.3 → decrypt, encrypt → TLS 1.3 → plain TCP (four AES-256-GCM ends), {size}, supporter→host / host→supporter, MB/s",
            $"relay {up["relay"].MedianRange(0)} / {down["relay"].MedianRange(0)}",
            string.Create(
                CultureInfo.InvariantCulture,
                $"{Haproxy} {up[Haproxy].MedianRange(0)} / {down[Haproxy].MedianRange(0)}, CPU per GiB {cpuUp[Haproxy].Median:F2} / {cpuDown[Haproxy].Median:F2} s (the middle one {middleUp[Haproxy].Median:F2} / {middleDown[Haproxy].Median:F2}); ssh -L {up["ssh -L"].Median:F0} / {down["ssh -L"].Median:F0}"),
            string.Create(
                CultureInfo.InvariantCulture,
                $"{Haproxy} {up[Haproxy].Median / up["ssh -L"].Median:F2}× / {down[Haproxy].Median / down["ssh -L"].Median:F2}× ssh; relay {up["relay"].Median / up[Haproxy].Median:F2}× / {down["relay"].Median / down[Haproxy].Median:F2}× {Haproxy}"),
            "(reported)",
            met: null);

    private static void AddCpu(PathCpuMeter? meter, Samples all, Samples first, double gibibytes)
    {
        if (meter is not null)
        {
            var (usedAll, usedFirst) = meter.Used();
            all.Add(usedAll.TotalSeconds / gibibytes);
            first.Add(usedFirst.TotalSeconds / gibibytes);
        }
    }

    private static async Task SettleAsync(Contender contender, Samples? samples, CancellationToken cancellationToken)
    {
        if (contender.Settle is { } settle)
        {
            var took = await settle(cancellationToken);
            samples?.Add(took.TotalMilliseconds);
        }
    }

    /// <summary>Per transfer: the machine's and the bench process's CPU seconds per GiB, and the cores' busy share.</summary>
    private sealed class MachineSamples
    {
        public Samples Machine { get; } = new();

        public Samples Bench { get; } = new();

        public Samples Busy { get; } = new();

        public void Add(MachineCpuMeter meter, double gibibytes)
        {
            var (bench, machine, share) = meter.Used();
            Machine.Add(machine.TotalSeconds / gibibytes);
            Bench.Add(bench.TotalSeconds / gibibytes);
            Busy.Add(share);
        }
    }

    private static double MegabytesPerSecond(long bytes, TimeSpan elapsed) => bytes / elapsed.TotalSeconds / 1e6;
}
