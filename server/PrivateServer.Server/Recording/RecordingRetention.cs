using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace PrivateServer.Server.Recording;

/// <summary>Settings of screen recordings (section <c>Recordings</c>).</summary>
public sealed class RecordingOptions
{
    public const string SectionName = "Recordings";

    /// <summary>How many days a recording is kept (default 90); 0 keeps them until an admin deletes them.</summary>
    [Range(0, 36_500)]
    public int RetentionDays { get; set; } = 90;
}

/// <summary>Deletes recordings past their retention at start and then every six hours; every deletion is audited.</summary>
internal sealed partial class RecordingRetention(
    ScreenRecordings recordings, IOptions<RecordingOptions> options, TimeProvider time, ILogger<RecordingRetention> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromHours(6);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.RetentionDays == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            do
            {
                try
                {
                    await recordings.DeleteOlderThanAsync(time.GetUtcNow().AddDays(-options.Value.RetentionDays), stoppingToken);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    LogRetentionFailed(logger, ex);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(EventId = 5103, Level = LogLevel.Error, Message = "Could not delete expired recordings")]
    private static partial void LogRetentionFailed(ILogger logger, Exception exception);
}
