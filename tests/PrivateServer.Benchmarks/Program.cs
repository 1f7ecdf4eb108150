using System.Globalization;
using PrivateServer.Benchmarks.Load;
using PrivateServer.Benchmarks.Peers;
using PrivateServer.Benchmarks.Report;
using PrivateServer.Benchmarks.Scenarios;
using PrivateServer.Benchmarks.Services;
using PrivateServer.IntegrationTests.Infrastructure;
using PrivateServer.Protocol.Transport;

// make bench: the real appliance, host and supporter modules against direct TCP and OpenSSH, all on
// 127.0.0.1, in one run; prints a Markdown table and writes the figures to bench-results/latest.json.
// The load process plays module ends (the idle hosts, both ends of the chatty sessions) with the modules' protocol code, and
// runs it the way the modules do: socket completions on the polling thread (here) and workers that sleep at once instead of
// spinning (runtime configuration in the project). With the runtime's defaults it took 107–109 % of a core for the 200
// chatty sessions against 72–80 % so, on the 2 cores the appliance needs too (README, Performance). Not passed on to the
// processes it starts (ChildProcess).
SocketCompletions.PreferInline();
BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException ex)
{
    var help = args.Contains("--help") || args.Contains("-h");
    await Console.Error.WriteLineAsync("privateserver-bench: " + ex.Message);
    return help ? 0 : 2;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
var cancellationToken = stop.Token;
if (options.HeartbeatSeconds is { } heartbeat)
{
    // The appliances started below read it as configuration (PRIVATESERVER__Section__Key).
    Environment.SetEnvironmentVariable("PRIVATESERVER__Broker__HeartbeatSeconds", heartbeat.ToString(CultureInfo.InvariantCulture));
}

var files = FileLimit.RaiseToMaximum();
var idleNeeds = options.Runs("idle") ? (ulong)options.IdleHostSteps[^1] + 1024 : 0;
if (files < idleNeeds)
{
    await Console.Error.WriteLineAsync($"privateserver-bench: the open-file limit is {files}; {options.IdleHostSteps[^1]} hosts need more (raise the hard limit, e.g. ulimit -Hn, or pass --hosts)");
    return 2;
}

var report = new BenchReport(MachineFacts.Read(), "make bench" + (args.Length == 0 ? string.Empty : " BENCH_ARGS=\"" + string.Join(' ', args) + "\""));
await Console.Error.WriteLineAsync($"Benchmarking on {report.Machine.Cores} cores ({report.Machine.CpuModel}); open-file limit {files}.");
await using var bulk = new BulkService();
await using var echo = EchoServer.Start();

if (options.Runs("throughput") || options.Runs("streams") || options.Runs("sessions"))
{
    await using var sshd = await PrivateSshd.StartAsync(cancellationToken);
    await using var rig = await RelayRig.StartAsync(bulk.Port, echo.Port, cancellationToken);
    var sshBulk = FreePort.Next();
    var sshEcho = FreePort.Next();
    await using var ssh = await SshForward.StartAsync(sshd, [(sshBulk, bulk.Port), (sshEcho, echo.Port)], cancellationToken);
    // With --variant: a second plain appliance with those environment variables, measured alternating with the first.
    await using var variant = options.Variant.Count == 0 || !(options.Runs("throughput") || options.Runs("streams")) ? null
        : await RelayRig.StartAsync(bulk.Port, echo.Port, cancellationToken, environment: options.Variant.ToDictionary(StringComparer.Ordinal));
    if (options.Runs("throughput"))
    {
        await Console.Error.WriteLineAsync("Throughput …");
        // A second appliance whose group records: the same relay with every byte also written to a recording.
        await using var recorded = await RelayRig.StartAsync(bulk.Port, echo.Port, cancellationToken, recording: true);
        // The relay's topology (four TLS ends, three processes) built from a C proxy: what this machine allows it.
        await using var haproxy = await HaproxyChain.StartAsync(bulk.Port, cancellationToken);
        await ThroughputScenario.RunAsync(
            options,
            [
                new("direct", bulk.Port),
                new("ssh -L", sshBulk, Path: () => [ssh.ProcessId, .. ProcessMeter.WithDescendants(sshd.ProcessId)]),
                new("relay", rig.BulkForward, Path: rig.PathProcesses),
                new(ThroughputScenario.Recorded, recorded.BulkForward, recorded.WaitForRecordingSavedAsync, recorded.PathProcesses),
                new(ThroughputScenario.Haproxy, haproxy.Port, Path: () => [haproxy.ProcessIds[1], haproxy.ProcessIds[0], haproxy.ProcessIds[2]]),
                .. variant is null ? Array.Empty<ThroughputScenario.Contender>() : [new(ThroughputScenario.Variant, variant.BulkForward, Path: variant.PathProcesses)],
            ],
            report, cancellationToken);
    }

    if (options.Runs("streams"))
    {
        await Console.Error.WriteLineAsync("Stream set-up …");
        await LatencyScenario.RunAsync(
            options,
            [
                new("relay", rig.EchoForward, Path: rig.PathProcesses),
                new("ssh -L", sshEcho, Path: () => [ssh.ProcessId, .. ProcessMeter.WithDescendants(sshd.ProcessId)]),
                new("direct", echo.Port),
                .. variant is null ? Array.Empty<ThroughputScenario.Contender>() : [new(ThroughputScenario.Variant, variant.EchoForward)],
            ],
            report, cancellationToken);
    }

    if (options.Runs("sessions"))
    {
        await Console.Error.WriteLineAsync("Session set-up …");
        await SessionScenario.RunAsync(options, rig, sshd, echo.Port, report, cancellationToken);
    }
}

if (options.Runs("idle"))
{
    await Console.Error.WriteLineAsync("Idle hosts …");
    await IdleHostsScenario.RunAsync(options, echo.Port, report, cancellationToken);
}

if (options.Runs("audit"))
{
    await Console.Error.WriteLineAsync("Audit trail …");
    await AuditScenario.RunAsync(report, cancellationToken);
}

if (options.Runs("chatty"))
{
    await Console.Error.WriteLineAsync("Concurrent chatty sessions …");
    await ChattySessionsScenario.RunAsync(options, echo.Port, report, cancellationToken);
}

var markdown = report.ToMarkdown();
Console.WriteLine(markdown);
await report.WriteJsonAsync(options.OutputFile, cancellationToken);
await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Figures written to {options.OutputFile}."));
return 0;
