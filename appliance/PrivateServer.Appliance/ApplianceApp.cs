using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PrivateServer.Appliance.Hosting;
using PrivateServer.Server.Admin;
using PrivateServer.Server.Api;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Mail;
using PrivateServer.Server.Storage;
using PrivateServer.Server.Tls;
using PrivateServer.Server.Web;
using Serilog;
using Serilog.Events;

namespace PrivateServer.Appliance;

/// <summary>
/// The composition root: the only place that knows every feature. <c>privateserver run</c> and
/// the integration tests (through the same binary) get the same wiring.
/// </summary>
public static class ApplianceApp
{
    /// <summary>The Windows service the MSI installs (packaging/msi).</summary>
    public const string WindowsServiceName = "PrivateServer";

    /// <param name="configuration">The merged configuration (<see cref="ApplianceConfiguration"/>).</param>
    /// <param name="folder">The initialised data folder.</param>
    /// <param name="database">The opened database; the caller owns it.</param>
    /// <param name="certificates">The loaded server certificate; the caller owns it.</param>
    /// <param name="logger">The Serilog logger; the app disposes it.</param>
    public static WebApplication Build(
        IConfiguration configuration,
        DataFolder folder,
        ApplianceDatabase database,
        ServerCertificateStore certificates,
        Serilog.Core.Logger logger)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(certificates);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ApplicationName = "PrivateServer",
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddConfiguration(configuration);
        builder.Logging.ClearProviders();
        builder.Services.AddSerilog(logger, dispose: true);
        // Installed as a service: READY=1 to systemd once serving (Type=notify), SCM start/stop on Windows. Both do nothing otherwise.
        builder.Services.AddSystemd();
        builder.Services.AddWindowsService(service => service.ServiceName = WindowsServiceName);

        builder.Services.AddOptions<ApplianceOptions>().BindConfiguration(ApplianceOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<LogOptions>().BindConfiguration(LogOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(certificates);
        builder.Services.AddStorage(folder, database);
        builder.Services.AddAudit();
        builder.Services.AddMail(deliver: true);
        var hostCertificates = HostCertificateValidator.Load(certificates.CaCertificate, database);
        builder.Services.AddSingleton(hostCertificates);
        builder.Services.AddSingleton<RevocationList>();
        builder.Services.AddHostedService<PrivateServer.Server.Tls.Acme.AcmeRenewal>();
        builder.Services.AddAdministration();
        builder.Services.AddBroker();
        builder.Services.AddWebConsole(folder);

        var listen = ListenAddress.ParseAll(configuration.GetSection(ApplianceOptions.SectionName).Get<ApplianceOptions>()?.Urls ?? string.Empty);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 1024 * 1024;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(15);
            foreach (var address in listen)
            {
                kestrel.Listen(address.EndPoint, endpoint =>
                {
                    endpoint.Protocols = HttpProtocols.Http1AndHttp2;
                    endpoint.UseApplianceTls(certificates, hostCertificates).UseHostChannel();
                });
            }

            kestrel.ListenAdminSocket(folder.AdminSocketPath);
        });

        var app = builder.Build();
        // First: every later part (logs, sign-in throttle, network rules) sees the real client address.
        NetworkRules.UseTrustedProxies(app, configuration.GetSection(NetworkOptions.SectionName).Get<NetworkOptions>() ?? new NetworkOptions());
        app.UseSerilogRequestLogging(options =>
        {
            options.Logger = logger;
            // Monitoring polls /healthz every few seconds; keep it out of the daily log unless it fails.
            options.GetLevel = (context, _, error) =>
                error is not null || context.Response.StatusCode >= StatusCodes.Status500InternalServerError ? LogEventLevel.Error
                : context.Request.Path.StartsWithSegments("/healthz", StringComparison.OrdinalIgnoreCase) ? LogEventLevel.Debug
                // Every relay stream is one request; the broker logs sessions, streams go to Debug.
                : context.Request.Path.StartsWithSegments("/api/v1/relay", StringComparison.OrdinalIgnoreCase) ? LogEventLevel.Debug
                : LogEventLevel.Information;
        });
        app.UseWebSockets();
        app.UseWebConsole();
        app.MapWebConsole();
        app.MapModuleApi();
        app.MapAdminApi();
        app.MapRevocationList();
        app.Lifetime.ApplicationStarted.Register(() => AdminSocket.RestrictToOwner(folder.AdminSocketPath));
        return app;
    }
}
