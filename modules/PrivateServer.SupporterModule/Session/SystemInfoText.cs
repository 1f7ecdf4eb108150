using System.Globalization;
using System.Text;
using PrivateServer.Protocol.SystemInfo;

namespace PrivateServer.SupporterModule.Session;

/// <summary>A <see cref="SystemReport"/> as a supporter reads it: one section per topic, one fact per line.</summary>
internal static class SystemInfoText
{
    /// <summary>Reads the report the host writes on the stream (at most <see cref="SystemReport.MaximumBytes"/>).</summary>
    public static async Task<SystemReport> ReadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > SystemReport.MaximumBytes)
            {
                throw new IOException($"the host's system information exceeds {SystemReport.MaximumBytes} bytes");
            }

            buffer.Write(chunk, 0, read);
        }

        try
        {
            return SystemReport.FromJson(buffer.ToArray());
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new IOException("the host's system information is not readable: " + ex.Message, ex);
        }
    }

    public static string Format(SystemReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        Section(text, "System");
        Line(text, "computer", report.ComputerName);
        Line(text, "os", report.Os);
        Line(text, "architecture", report.Architecture);
        Line(text, "uptime", TimeSpan.FromSeconds(report.UptimeSeconds).ToString(@"d\.hh\:mm\:ss", c));
        Line(text, "module", report.ModuleVersion);
        Line(text, "at", report.At.ToString("u", c));
        Section(text, "CPU");
        Line(text, "model", report.Cpu.Model);
        Line(text, "logical processors", report.Cpu.LogicalProcessors.ToString(c));
        if (report.Cpu.LoadAverage is { Count: > 0 } load)
        {
            Line(text, "load average", string.Join(' ', load.Select(l => l.ToString("0.00", c))));
        }

        Section(text, "Memory");
        Line(text, "total", Bytes(report.Memory.TotalBytes));
        Line(text, "available", Bytes(report.Memory.AvailableBytes));
        Section(text, "Disks");
        foreach (var disk in report.Disks)
        {
            Line(text, disk.Mount, $"{disk.Format}, {Bytes(disk.FreeBytes)} free of {Bytes(disk.TotalBytes)}");
        }

        Section(text, "Network");
        foreach (var network in report.Networks)
        {
            Line(text, network.Name, $"{network.Kind}, {network.Status}{(network.Mac is null ? string.Empty : ", " + network.Mac)}, {string.Join(' ', network.Addresses)}");
        }

        Section(text, "Users");
        foreach (var user in report.Users)
        {
            text.Append("  ").AppendLine(user);
        }

        Section(text, "Processes by CPU (pid, %, memory, name)");
        foreach (var process in report.TopByCpu)
        {
            text.Append(c, $"  {process.Id,7} {process.CpuPercent,6:0.0} {Bytes(process.MemoryBytes),10} {process.Name}").AppendLine();
        }

        Section(text, "Processes by memory (pid, %, memory, name)");
        foreach (var process in report.TopByMemory)
        {
            text.Append(c, $"  {process.Id,7} {process.CpuPercent,6:0.0} {Bytes(process.MemoryBytes),10} {process.Name}").AppendLine();
        }

        Section(text, "Services");
        foreach (var service in report.Services)
        {
            Line(text, service.Name, service.State + (service.Description is null ? string.Empty : " — " + service.Description));
        }

        if (report.Notes.Count > 0)
        {
            Section(text, "Not available");
            foreach (var note in report.Notes)
            {
                text.Append("  ").AppendLine(note);
            }
        }

        return text.ToString();
    }

    private static void Section(StringBuilder text, string title) => text.Append(title).AppendLine(":");

    private static void Line(StringBuilder text, string key, string value) => text.Append("  ").Append(key).Append(": ").AppendLine(value);

    private static string Bytes(long bytes) =>
        bytes >= 1L << 30 ? (bytes / (double)(1L << 30)).ToString("0.0 GiB", CultureInfo.InvariantCulture)
        : bytes >= 1L << 20 ? (bytes / (double)(1L << 20)).ToString("0.0 MiB", CultureInfo.InvariantCulture)
        : (bytes / 1024.0).ToString("0 KiB", CultureInfo.InvariantCulture);
}
