using System.Net;
using Microsoft.Extensions.Logging;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Audit;

namespace PrivateServer.Server.Auth;

/// <summary>Checks a user's password and records the outcome. Never tells whether an account exists.</summary>
public sealed partial class LoginService(IUserStore users, PasswordService passwords, AuditTrail audit, ILogger<LoginService> logger)
{
    public async Task<User?> CheckPasswordAsync(string? name, string? password, IPAddress? source, CancellationToken cancellationToken)
    {
        password ??= string.Empty;
        var from = source?.ToString() ?? "local";
        var user = AccountName.IsValid(name) ? await users.FindAsync(name!, cancellationToken) : null;
        if (user is null)
        {
            passwords.VerifyAgainstNothing(password);
            LogUnknownAccount(logger, from);
            // The name stays out of the trail as it does out of the log: it may be a mistyped password.
            await audit.RecordAsync("unknown", "login.failed", source: from, details: Reason("unknown account"), cancellationToken: cancellationToken);
            return null;
        }

        var check = passwords.Verify(user.PasswordHash, password);
        if (check == PasswordCheck.Invalid || user.Disabled)
        {
            var reason = user.Disabled ? "account disabled" : "wrong password";
            LogLoginFailed(logger, user.Name, from, reason);
            await audit.RecordAsync(user.Name, "login.failed", user.Name, source: from, details: Reason(reason), cancellationToken: cancellationToken);
            return null;
        }

        if (check == PasswordCheck.ValidRehashNeeded)
        {
            user = user with { PasswordHash = passwords.Hash(password) };
            await users.UpdateAsync(user, cancellationToken);
        }

        LogLoginSucceeded(logger, user.Name, from);
        await audit.RecordAsync(user.Name, "login.ok", user.Name, source: from, cancellationToken: cancellationToken);
        return user;
    }

    private static Dictionary<string, string> Reason(string reason) => new(StringComparer.Ordinal) { ["reason"] = reason };

    // The fixed "Login failed ... from ADDRESS" wording is what fail2ban filters match.
    [LoggerMessage(EventId = 2000, Level = LogLevel.Warning, Message = "Login failed for user {UserName} from {Source}: {Reason}")]
    private static partial void LogLoginFailed(ILogger logger, string userName, string source, string reason);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Login failed for an unknown account from {Source}")]
    private static partial void LogUnknownAccount(ILogger logger, string source);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Login of user {UserName} from {Source}")]
    private static partial void LogLoginSucceeded(ILogger logger, string userName, string source);
}
