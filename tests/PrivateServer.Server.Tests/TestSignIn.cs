using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tests;

/// <summary>The real sign-in services over a test's database: password check, throttle and second factor.</summary>
internal static class TestSignIn
{
    public static (LoginService Login, TwoFactor TwoFactor, LoginThrottle Throttle) Create(
        ApplianceDatabase database, AuditTrail audit, TimeProvider? clock = null, string twoFactorRequiredFor = "none", NetworkOptions? networkOptions = null)
    {
        clock ??= TimeProvider.System;
        var users = new LiteDbUserStore(database);
        var passwords = new PasswordService();
        var twoFactor = new TwoFactor(
            users, new LiteDbGroupStore(database), passwords, audit, Options.Create(new TwoFactorOptions { TwoFactorRequiredFor = twoFactorRequiredFor }),
            clock, NullLogger<TwoFactor>.Instance);
        var throttle = new LoginThrottle(clock);
        var networks = new NetworkRules(new LiteDbGroupStore(database), Options.Create(networkOptions ?? new NetworkOptions()), NullLogger<NetworkRules>.Instance);
        return (new LoginService(users, passwords, audit, throttle, twoFactor, networks, NullLogger<LoginService>.Instance), twoFactor, throttle);
    }
}
