using Microsoft.Extensions.Hosting;

namespace PrivateServer.Server.Setup;

/// <summary>Background work done at start and then every <paramref name="interval"/> until the appliance stops.</summary>
public abstract class PeriodicService(TimeSpan interval, TimeProvider time) : BackgroundService
{
    /// <summary>The clock the rounds are timed by.</summary>
    protected TimeProvider Time { get; } = time;

    /// <summary>One round of the work.</summary>
    protected abstract Task RunOnceAsync(CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, Time);
        try
        {
            do
            {
                await RunOnceAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
