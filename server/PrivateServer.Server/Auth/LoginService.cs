using System.Net;
using Microsoft.Extensions.Logging;
using PrivateServer.Server.Accounts;

namespace PrivateServer.Server.Auth;

/// <summary>Checks a user's password and records the outcome. Never tells whether an account exists.</summary>
public sealed partial class LoginService(IUserStore users, PasswordService passwords, ILogger<LoginService> logger)
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
            return null;
        }

        var check = passwords.Verify(user.PasswordHash, password);
        if (check == PasswordCheck.Invalid || user.Disabled)
        {
            LogLoginFailed(logger, user.Name, from, user.Disabled ? "account disabled" : "wrong password");
            return null;
        }

        if (check == PasswordCheck.ValidRehashNeeded)
        {
            user = user with { PasswordHash = passwords.Hash(password) };
            await users.UpdateAsync(user, cancellationToken);
        }

        LogLoginSucceeded(logger, user.Name, from);
        return user;
    }

    // The fixed "Login failed ... from ADDRESS" wording is what fail2ban filters match.
    [LoggerMessage(EventId = 2000, Level = LogLevel.Warning, Message = "Login failed for user {UserName} from {Source}: {Reason}")]
    private static partial void LogLoginFailed(ILogger logger, string userName, string source, string reason);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Login failed for an unknown account from {Source}")]
    private static partial void LogUnknownAccount(ILogger logger, string source);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Login of user {UserName} from {Source}")]
    private static partial void LogLoginSucceeded(ILogger logger, string userName, string source);
}
