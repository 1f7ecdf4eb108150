using System.ComponentModel.DataAnnotations;
using Serilog.Events;

namespace PrivateServer.Appliance.Hosting;

/// <summary>Logging (section <c>Logs</c>): files in DATA/logs (or <see cref="Directory"/>), one per day.</summary>
public sealed class LogOptions
{
    public const string SectionName = "Logs";

    public LogEventLevel Level { get; set; } = LogEventLevel.Information;

    /// <summary>Where the daily files go; default DATA/logs. The Debian package sets /var/log/privateserver.</summary>
    public string? Directory { get; set; }

    /// <summary>How many daily log files are kept.</summary>
    [Range(1, 3650)]
    public int RetainedFiles { get; set; } = 30;
}
