using System.CommandLine;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using PrivateServer.Appliance.Hosting;
using PrivateServer.Protocol;
using PrivateServer.Server.Admin;
using PrivateServer.Server.Storage;
using PrivateServer.Server.Tls;

namespace PrivateServer.Appliance.Cli;

/// <summary><c>privateserver run</c>: serves HTTPS until SIGINT/SIGTERM.</summary>
internal static class RunVerb
{
    public static Command Create(CliContext context)
    {
        var urls = new Option<string?>("--urls")
        {
            Description = "HTTPS addresses to listen on, separated by ';' (default https://0.0.0.0:443).",
            HelpName = "URLS",
        };
        var command = new Command("run", "Starts the appliance and serves until stopped (SIGINT/SIGTERM).") { urls };
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var flags = parse.GetValue(urls) is { } given
                ? new Dictionary<string, string?> { [$"{ApplianceOptions.SectionName}:{nameof(ApplianceOptions.Urls)}"] = given }
                : null;
            var configuration = context.Configuration(parse, flags);
            var appliance = CliContext.Bind<ApplianceOptions>(configuration, ApplianceOptions.SectionName);
            var logs = CliContext.Bind<LogOptions>(configuration, LogOptions.SectionName);
            var listen = ListenAddress.ParseAll(appliance.Urls);
            var folder = new DataFolder(appliance.DataDirectory);
            folder.EnsureInitialised();

            await AdminSocket.ClaimAsync(folder, cancellationToken);
            using var database = ApplianceDatabase.Open(folder);
            using var certificates = ServerCertificateStore.Load(folder, TimeProvider.System.GetUtcNow());
            await using var app = ApplianceApp.Build(configuration, folder, database, certificates, ApplianceLogging.Create(folder, logs));
            try
            {
                try
                {
                    await app.StartAsync(cancellationToken);
                }
                catch (IOException ex)
                {
                    return context.Fail($"cannot listen on {string.Join(", ", listen)}: {(ex.InnerException ?? ex).Message}");
                }
                catch (OptionsValidationException ex)
                {
                    return context.Fail($"invalid settings: {ex.Message}");
                }

                context.Error.WriteLine(
                    $"PrivateServer {ProtocolInfo.ProductVersion(typeof(RunVerb).Assembly)} serves {string.Join(", ", listen)} from {folder.Root}");
                await app.WaitForShutdownAsync(CancellationToken.None);
            }
            finally
            {
                File.Delete(folder.AdminSocketPath);
            }

            return 0;
        });
        return command;
    }
}
