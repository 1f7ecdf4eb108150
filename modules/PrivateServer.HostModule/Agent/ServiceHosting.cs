using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace PrivateServer.HostModule.Agent;

/// <summary>
/// Runs the unattended host module under whatever started it: systemd gets READY=1 once the module
/// runs and STOPPING=1 when it stops (the unit is Type=notify), the Windows service control manager
/// gets its start and stop; started from a terminal, it is a plain process. Either way the work ends
/// on SIGINT/SIGTERM or a service stop, and its own failures reach the caller unchanged.
/// </summary>
internal static class ServiceHosting
{
    /// <summary>The Windows service the MSI installs (packaging/msi).</summary>
    public const string WindowsServiceName = "PrivateServerHost";

    public static async Task RunAsync(Func<CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
        builder.Services.AddSystemd();
        builder.Services.AddWindowsService(service => service.ServiceName = WindowsServiceName);
        using var host = builder.Build();
        await host.StartAsync(cancellationToken);
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        try
        {
            await work(stop.Token);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }
}
