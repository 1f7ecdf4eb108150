using System.Globalization;

namespace PrivateServer.Benchmarks.Scenarios;

/// <summary>The knobs of a run; the defaults are the issue's figures, <c>--quick</c> a smoke run.</summary>
internal sealed record BenchOptions
{
    public long BulkBytes { get; init; } = 1L << 30;

    public int Repetitions { get; init; } = 5;

    public int StreamSamples { get; init; } = 1000;

    public int SessionSamples { get; init; } = 100;

    /// <summary>
    /// Streams opened back to back, not counted, for this long before the stream set-up samples: the appliance and the
    /// modules are .NET programs whose hot methods are compiled again, optimised, in the background during their first
    /// seconds under a new load (on the 2-core VM the JIT took a fifth of the appliance's CPU 4–14 s into back-to-back
    /// streams and nothing after 45 s). An appliance that has been running is past that; the samples measure it so.
    /// </summary>
    public TimeSpan StreamWarmUp { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// A pause after each stream set-up sample (0: back to back, the issue's measure). With a pause each module's spare
    /// connection is ready again before the next stream: the set-up without the handshake of the spare's replacement.
    /// </summary>
    public TimeSpan StreamGap { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// Stream set-up samples <see cref="SpacedStreamGap"/> apart, after the back-to-back ones (0: none): streams the way a
    /// supporter opens them — a viewer now and then, not a thousand in a row — each finding its modules' spare ready.
    /// </summary>
    public int SpacedStreamSamples { get; init; } = 100;

    /// <summary>The pause after each spaced sample: longer than a module's refill delay plus a handshake.</summary>
    public static readonly TimeSpan SpacedStreamGap = TimeSpan.FromMilliseconds(150);

    public IReadOnlyList<int> IdleHostSteps { get; init; } = [1000, 5000, 10000];

    public TimeSpan IdleCpuWindow { get; init; } = TimeSpan.FromSeconds(30);

    public int ChattySessions { get; init; } = 200;

    public TimeSpan ChatterDuration { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Chatter before the counted window, not counted: as with <see cref="StreamWarmUp"/>, the appliance compiles its hot
    /// methods again, optimised, in the background under a new load (runtime counters on the 2-core VM: the JIT at
    /// 0.4–0.9 s of CPU per second for the first ~8 s of chatter and the server's user CPU halving after it), and those
    /// seconds measured a program still compiling itself.
    /// </summary>
    public TimeSpan ChatterWarmUp { get; init; } = TimeSpan.FromSeconds(20);

    public IReadOnlySet<string> Only { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    public string OutputFile { get; init; } = "bench-results/latest.json";

    /// <summary>Broker:HeartbeatSeconds for the appliances the bench starts; null keeps the default.</summary>
    public int? HeartbeatSeconds { get; init; }

    /// <summary>
    /// Environment variables for a second relay appliance (<c>--variant NAME=VALUE</c>, repeatable), measured alongside the
    /// plain relay, alternating in the same run, in throughput and stream set-up: a runtime or configuration knob compared
    /// without the spread between runs (on the 2-core VM the same build moved 20–40 % more or less from one run to the next).
    /// </summary>
    public IReadOnlyDictionary<string, string> Variant { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The variant as the report names it: its settings.</summary>
    public string VariantName => string.Join(' ', Variant.Select(p => p.Key + "=" + p.Value));

    public static readonly IReadOnlyList<string> Sections = ["throughput", "streams", "sessions", "idle", "audit", "chatty"];

    private static Dictionary<string, string> WithSetting(IReadOnlyDictionary<string, string> variant, string setting)
    {
        var equals = setting.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            throw new ArgumentException($"--variant takes NAME=VALUE (an environment variable for the variant appliance and its modules), not \"{setting}\"");
        }

        return new Dictionary<string, string>(variant, StringComparer.Ordinal) { [setting[..equals]] = setting[(equals + 1)..] };
    }

    public bool Runs(string section) => Only.Count == 0 || Only.Contains(section);

    public const string Usage =
        "options: --quick (one-minute smoke run) --size-mib N --reps N --stream-samples N --stream-warmup-seconds N --stream-gap-ms N --spaced-stream-samples N --session-samples N " +
        "--hosts A,B,C --sessions N --chatter-seconds N --chatter-warmup-seconds N --heartbeat SECONDS --variant NAME=VALUE --only throughput,streams,sessions,idle,audit,chatty --out FILE";

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Number()
            {
                var name = args[i];
                var text = Value();
                return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
                    ? number
                    : throw new ArgumentException($"{name} takes a whole number, not \"{text}\"");
            }

            options = args[i] switch
            {
                "--quick" => options with
                {
                    BulkBytes = 64L << 20, Repetitions = 3, StreamSamples = 200, StreamWarmUp = TimeSpan.Zero, SpacedStreamSamples = 20, SessionSamples = 20,
                    IdleHostSteps = [200, 500], IdleCpuWindow = TimeSpan.FromSeconds(10), ChattySessions = 20, ChatterDuration = TimeSpan.FromSeconds(5), ChatterWarmUp = TimeSpan.Zero,
                },
                "--size-mib" => options with { BulkBytes = (long)Number() << 20 },
                "--reps" => options with { Repetitions = Math.Max(1, Number()) },
                "--stream-samples" => options with { StreamSamples = Number() },
                "--spaced-stream-samples" => options with { SpacedStreamSamples = Number() },
                "--stream-gap-ms" => options with { StreamGap = TimeSpan.FromMilliseconds(Number()) },
                "--stream-warmup-seconds" => options with { StreamWarmUp = TimeSpan.FromSeconds(Number()) },
                "--session-samples" => options with { SessionSamples = Number() },
                "--hosts" => options with { IdleHostSteps = Value().Split(',').Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new ArgumentException($"--hosts takes whole numbers separated by commas, not \"{s}\"")).Order().ToList() },
                "--sessions" => options with { ChattySessions = Number() },
                "--chatter-seconds" => options with { ChatterDuration = TimeSpan.FromSeconds(Number()) },
                "--chatter-warmup-seconds" => options with { ChatterWarmUp = TimeSpan.FromSeconds(Number()) },
                "--only" => options with { Only = Value().Split(',').ToHashSet(StringComparer.Ordinal) },
                "--out" => options with { OutputFile = Value() },
                "--heartbeat" => options with { HeartbeatSeconds = Number() },
                "--variant" => options with { Variant = WithSetting(options.Variant, Value()) },
                "--help" or "-h" => throw new ArgumentException(Usage),
                _ => throw new ArgumentException($"unknown option {args[i]}; {Usage}"),
            };
        }

        var unknown = options.Only.Except(Sections).ToList();
        return unknown.Count == 0 ? options : throw new ArgumentException($"unknown section(s) {string.Join(", ", unknown)}; sections: {string.Join(", ", Sections)}");
    }
}
