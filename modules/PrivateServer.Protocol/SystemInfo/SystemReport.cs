using System.Text.Json;
using System.Text.Json.Serialization;

namespace PrivateServer.Protocol.SystemInfo;

/// <summary>
/// What a host tells a supporter about itself on a <c>sysinfo</c> stream (read-only): the host
/// writes this one JSON document and closes the stream. <see cref="Notes"/> says what could not be
/// read on this system, so an empty list is never mistaken for "none".
/// </summary>
public sealed record SystemReport(
    string ComputerName,
    string Os,
    string Architecture,
    long UptimeSeconds,
    CpuReport Cpu,
    MemoryReport Memory,
    IReadOnlyList<DiskReport> Disks,
    IReadOnlyList<NetworkReport> Networks,
    IReadOnlyList<string> Users,
    IReadOnlyList<ProcessReport> TopByCpu,
    IReadOnlyList<ProcessReport> TopByMemory,
    IReadOnlyList<ServiceReport> Services,
    string ModuleVersion,
    DateTimeOffset At,
    IReadOnlyList<string> Notes)
{
    /// <summary>A report is small; anything bigger on the stream is refused.</summary>
    public const int MaximumBytes = 1024 * 1024;

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, SystemReportJson.Default.SystemReport);

    /// <exception cref="JsonException">Not a report.</exception>
    public static SystemReport FromJson(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, SystemReportJson.Default.SystemReport) ?? throw new JsonException("an empty system report");
}

public sealed record CpuReport(string Model, int LogicalProcessors, IReadOnlyList<double>? LoadAverage);

public sealed record MemoryReport(long TotalBytes, long AvailableBytes);

public sealed record DiskReport(string Mount, string Format, long TotalBytes, long FreeBytes);

public sealed record NetworkReport(string Name, string Kind, string Status, string? Mac, IReadOnlyList<string> Addresses);

public sealed record ProcessReport(int Id, string Name, double CpuPercent, long MemoryBytes);

public sealed record ServiceReport(string Name, string State, string? Description);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, MaxDepth = 8)]
[JsonSerializable(typeof(SystemReport))]
internal sealed partial class SystemReportJson : JsonSerializerContext;
