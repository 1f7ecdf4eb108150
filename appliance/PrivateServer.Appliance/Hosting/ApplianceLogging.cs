using System.Globalization;
using PrivateServer.Protocol.Files;
using PrivateServer.Server.Storage;
using Serilog;
using Serilog.Events;

namespace PrivateServer.Appliance.Hosting;

/// <summary>
/// Serilog: people read the console (standard error, the journal under systemd), files keep
/// privateserver-YYYYMMDD.log in DATA/logs or <see cref="LogOptions.Directory"/>.
/// Framework chatter stays at Warning; request lines carry the path, never the query string.
/// </summary>
public static class ApplianceLogging
{
    public const string FileTemplate =
        "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} [{Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}";

    /// <summary>The console (journal) gets messages; stack traces go to the files only.</summary>
    public const string ConsoleTemplate = "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}";

    public static Serilog.Core.Logger Create(DataFolder folder, LogOptions options)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(options);
        var directory = string.IsNullOrWhiteSpace(options.Directory) ? folder.LogsDirectory : Path.GetFullPath(options.Directory);
        SecureFile.CreatePrivateDirectory(directory);
        return new LoggerConfiguration()
            .MinimumLevel.Is(options.Level)
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
            // Keys are kept unencrypted in the 0700 keys folder, like db.key; the warning says nothing new.
            .MinimumLevel.Override("Microsoft.AspNetCore.DataProtection", LogEventLevel.Error)
            .Enrich.FromLogContext()
            .WriteTo.Console(outputTemplate: ConsoleTemplate, standardErrorFromLevel: LogEventLevel.Verbose, formatProvider: CultureInfo.InvariantCulture)
            .WriteTo.File(
                Path.Combine(directory, "privateserver-.log"),
                rollingInterval: RollingInterval.Day,
                retainedFileCountLimit: options.RetainedFiles,
                outputTemplate: FileTemplate,
                formatProvider: CultureInfo.InvariantCulture)
            .CreateLogger();
    }
}
