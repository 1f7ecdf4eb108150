using Microsoft.Extensions.DependencyInjection;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.AdHoc;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Broker;
using PrivateServer.Server.Hosts;
using PrivateServer.Server.Mail;
using PrivateServer.Server.Settings;

namespace PrivateServer.Server.Storage;

public static class StorageExtensions
{
    /// <summary>Registers the stores over an already opened database (the caller owns and disposes it).</summary>
    public static IServiceCollection AddStorage(this IServiceCollection services, DataFolder folder, ApplianceDatabase database)
    {
        services.AddSingleton(folder);
        services.AddSingleton(database);
        services.AddSingleton<IUserStore, LiteDbUserStore>();
        services.AddSingleton<IGroupStore, LiteDbGroupStore>();
        services.AddSingleton<IHostStore, LiteDbHostStore>();
        services.AddSingleton<IApiTokenStore, LiteDbApiTokenStore>();
        services.AddSingleton<ISessionCodeStore, LiteDbSessionCodeStore>();
        services.AddSingleton<IConsentStore, LiteDbConsentStore>();
        services.AddSingleton<IPictureStore, LiteDbPictureStore>();
        services.AddSingleton<ISessionLog, LiteDbSessionLog>();
        services.AddSingleton<ISettingsStore, LiteDbSettingsStore>();
        // One instance: it keeps the chain's head, and writes atomic changes with their events.
        services.AddSingleton<LiteDbAuditLog>();
        services.AddSingleton<IAuditLog>(sp => sp.GetRequiredService<LiteDbAuditLog>());
        services.AddSingleton<IAtomicWriter>(sp => sp.GetRequiredService<LiteDbAuditLog>());
        services.AddSingleton<IOutbox, LiteDbOutbox>();
        services.AddSingleton<IPasswordLinkStore, LiteDbPasswordLinkStore>();
        services.AddSingleton<IMailSettingsStore, LiteDbMailSettingsStore>();
        services.AddSingleton<Scripts.IScriptStore, LiteDbScriptStore>();
        return services;
    }
}
