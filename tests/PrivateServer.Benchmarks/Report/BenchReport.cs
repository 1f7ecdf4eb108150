using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PrivateServer.Benchmarks.Report;

/// <summary>One Markdown table (printed) and the same figures as JSON (bench-results/latest.json).</summary>
internal sealed class BenchReport
{
    private readonly List<(string Measure, string Relay, string Baselines, string Ratio, string Target, string Verdict)> _rows = [];
    private readonly JsonObject _json = [];
    private readonly List<string> _notes = [];

    public BenchReport(MachineFacts machine, string command)
    {
        Machine = machine;
        _json["machine"] = JsonSerializer.SerializeToNode(machine);
        _json["command"] = command;
        _json["started"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        _json["results"] = new JsonObject();
    }

    public MachineFacts Machine { get; }

    /// <summary>A table row; <paramref name="met"/> null when the row has no target.</summary>
    public void Row(string measure, string relay, string baselines, string ratio, string target, bool? met)
    {
        _rows.Add((measure, relay, baselines, ratio, target, met switch { true => "met", false => "**missed**", null => "" }));
    }

    /// <summary>Raw figures for the JSON file.</summary>
    public void Data(string key, object value) => ((JsonObject)_json["results"]!)[key] = JsonSerializer.SerializeToNode(value);

    public void Note(string text) => _notes.Add(text);

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Machine.Cores} cores, {Machine.CpuModel}, {Machine.MemoryGiB:F0} GiB, {Machine.Os}, .NET {Machine.Runtime}.");
        text.AppendLine();
        text.AppendLine("| Measure | PrivateServer relay | Baselines (same run) | Ratio | Target | |");
        text.AppendLine("|---|---|---|---|---|---|");
        foreach (var row in _rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {row.Measure} | {row.Relay} | {row.Baselines} | {row.Ratio} | {row.Target} | {row.Verdict} |");
        }

        foreach (var note in _notes)
        {
            text.AppendLine();
            text.AppendLine(note);
        }

        return text.ToString();
    }

    public async Task WriteJsonAsync(string path, CancellationToken cancellationToken)
    {
        _json["finished"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        _json["markdown"] = ToMarkdown();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllTextAsync(path, _json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), cancellationToken);
    }
}

/// <summary>What the figures were measured on.</summary>
internal sealed record MachineFacts(int Cores, string CpuModel, double MemoryGiB, string Os, string Runtime)
{
    public static MachineFacts Read()
    {
        var model = File.ReadLines("/proc/cpuinfo")
            .FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        var memory = File.ReadLines("/proc/meminfo")
            .First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return new MachineFacts(
            Environment.ProcessorCount, model, double.Parse(memory, CultureInfo.InvariantCulture) / 1024 / 1024,
            System.Runtime.InteropServices.RuntimeInformation.OSDescription, Environment.Version.ToString());
    }
}
