using System.CommandLine;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using PrivateServer.Appliance.Hosting;
using PrivateServer.Protocol;
using PrivateServer.Protocol.Files;
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
        var init = new Option<bool>("--init")
        {
            Description = "Initialise the data folder first if it is empty (this machine's name; the generated admin password goes to DATA/initial-admin-password, readable by the service account only). The Windows service uses it.",
        };
        var command = new Command("run", "Starts the appliance and serves until stopped (SIGINT/SIGTERM).") { urls, init };
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
            if (parse.GetValue(init) && !folder.IsInitialised)
            {
                await InitialiseForServiceAsync(context, folder, cancellationToken);
            }

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

    private static async Task InitialiseForServiceAsync(CliContext context, DataFolder folder, CancellationToken cancellationToken)
    {
        var password = await InitVerb.InitialiseAsync(context, folder, [], "admin", null, cancellationToken);
        if (password is not null)
        {
            SecureFile.WriteAllText(folder.InitialAdminPasswordPath, password + Environment.NewLine);
            context.Error.WriteLine(
                $"The password of the admin user 'admin' is in {folder.InitialAdminPasswordPath}: log in, change it, then delete the file.");
        }
    }
}
