using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace PrivateServer.Server.Audit;

/// <summary>Settings of the audit trail (section <c>Audit</c>).</summary>
public sealed class AuditOptions
{
    public const string SectionName = "Audit";

    /// <summary>How often the trail's head is signed when it changed (default 15 minutes); also at every export and at shutdown.</summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan SealInterval { get; set; } = TimeSpan.FromMinutes(15);
}

/// <summary>Signs the audit trail's head every <see cref="AuditOptions.SealInterval"/> and once more when the server stops.</summary>
internal sealed partial class AuditSealing(AuditSeal seal, IOptions<AuditOptions> options, TimeProvider time, ILogger<AuditSealing> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SealInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await SealAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: StopAsync seals once more.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await SealAsync(cancellationToken);
    }

    private async Task SealAsync(CancellationToken cancellationToken)
    {
        try
        {
            await seal.SealAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is Storage.DataFolderException or LiteDB.LiteException or IOException)
        {
            LogSealFailed(logger, ex);
        }
    }

    [LoggerMessage(EventId = 5002, Level = LogLevel.Error, Message = "Could not sign the audit trail's head")]
    private static partial void LogSealFailed(ILogger logger, Exception exception);
}
