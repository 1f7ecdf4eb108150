using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PrivateServer.Server.Admin;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Mail;
using PrivateServer.Server.Storage;

namespace PrivateServer.Appliance.Cli;

/// <summary>
/// Runs an admin verb against the running server over its admin socket, or — when no server
/// runs — directly on the database (LiteDB allows one writer process, so never both).
/// </summary>
internal static class AdminAccess
{
    public static Task<T> WithAdministrationAsync<T>(
        DataFolder folder, Func<IApplianceAdministration, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        WithAdministrationAsync(folder, new ConfigurationBuilder().Build(), work, cancellationToken);

    /// <summary>As above, with the settings the in-process verbs read when no server runs (e.g. <c>Mail</c>, <c>Appliance:PublicUrl</c>).</summary>
    public static async Task<T> WithAdministrationAsync<T>(
        DataFolder folder, IConfiguration configuration, Func<IApplianceAdministration, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        folder.EnsureInitialised();
        if (File.Exists(folder.AdminSocketPath) && await AdminSocket.IsAnsweringAsync(folder.AdminSocketPath, cancellationToken))
        {
            using var client = new AdminSocketClient(folder.AdminSocketPath);
            return await work(client, cancellationToken);
        }

        using var database = ApplianceDatabase.Open(folder);
        await using var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton(configuration)
            .AddSingleton(TimeProvider.System)
            .AddStorage(folder, database)
            .AddAudit()
            .AddMail(deliver: false)
            .AddAdministration()
            .BuildServiceProvider();
        return await work(services.GetRequiredService<IApplianceAdministration>(), cancellationToken);
    }

    /// <summary>The value of an outcome, or its failure as the verb's one error line.</summary>
    public static T Unwrap<T>(AdminOutcome<T> outcome)
        where T : class =>
        outcome.Value ?? throw new CommandFailedException(outcome.Failure?.Message ?? "refused");
}
