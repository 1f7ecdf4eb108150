using System.Net;
using Microsoft.Extensions.Logging;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Audit;

namespace PrivateServer.Server.Auth;

/// <summary>How a sign-in went: the user, or null; <see cref="WaitFor"/> when it was refused unchecked (too many failures).</summary>
public sealed record LoginOutcome(User? User, TimeSpan? WaitFor = null);

/// <summary>
/// Checks a user's password and records the outcome, behind the brute-force throttle (<see cref="LoginThrottle"/>).
/// Never tells whether an account exists: unknown names are checked, counted and throttled the same way.
/// </summary>
public sealed partial class LoginService(IUserStore users, PasswordService passwords, AuditTrail audit, LoginThrottle throttle, ILogger<LoginService> logger)
{
    public async Task<User?> CheckPasswordAsync(string? name, string? password, IPAddress? source, CancellationToken cancellationToken) =>
        (await SignInAsync(name, password, source, cancellationToken)).User;

    public async Task<LoginOutcome> SignInAsync(string? name, string? password, IPAddress? source, CancellationToken cancellationToken)
    {
        password ??= string.Empty;
        var from = source?.ToString() ?? "local";
        var verdict = throttle.Check(name, source);
        if (verdict.WaitFor is { } wait)
        {
            // Refused without looking at the password; fail2ban matches "Login refused ... from ADDRESS".
            LogLoginThrottled(logger, from, verdict.Blocked ? "blocked" : "too early", LoginThrottle.WaitText(wait));
            if (verdict.BlockStarted)
            {
                await RecordBlockAsync("unknown", from, cancellationToken);
            }

            return new LoginOutcome(null, wait);
        }

        var user = AccountName.IsValid(name) ? await users.FindAsync(name!, cancellationToken) : null;
        if (user is null)
        {
            passwords.VerifyAgainstNothing(password);
            LogUnknownAccount(logger, from);
            // The name stays out of the trail as it does out of the log: it may be a mistyped password.
            await audit.RecordAsync("unknown", "login.failed", source: from, details: Reason("unknown account"), cancellationToken: cancellationToken);
            await CountFailureAsync(name, source, from, "unknown", cancellationToken);
            return new LoginOutcome(null);
        }

        var check = passwords.Verify(user.PasswordHash, password);
        if (check == PasswordCheck.Invalid || user.Disabled)
        {
            var reason = user.Disabled ? "account disabled" : "wrong password";
            LogLoginFailed(logger, user.Name, from, reason);
            await audit.RecordAsync(user.Name, "login.failed", user.Name, source: from, details: Reason(reason), cancellationToken: cancellationToken);
            await CountFailureAsync(name, source, from, user.Name, cancellationToken);
            return new LoginOutcome(null);
        }

        if (check == PasswordCheck.ValidRehashNeeded)
        {
            user = user with { PasswordHash = passwords.Hash(password) };
            await users.UpdateAsync(user, cancellationToken);
        }

        throttle.Succeeded(user.Name);
        LogLoginSucceeded(logger, user.Name, from);
        await audit.RecordAsync(user.Name, "login.ok", user.Name, source: from, cancellationToken: cancellationToken);
        return new LoginOutcome(user);
    }

    /// <summary>Counts a failure; the 10th of a name or an address starts a 15-minute block, which is audited and logged once.</summary>
    private async Task CountFailureAsync(string? name, IPAddress? source, string from, string actor, CancellationToken cancellationToken)
    {
        if (throttle.Failed(name, source))
        {
            await RecordBlockAsync(actor, from, cancellationToken);
        }
    }

    private async Task RecordBlockAsync(string actor, string from, CancellationToken cancellationToken)
    {
        LogLoginBlocked(logger, from, LoginThrottle.BlockAfter, LoginThrottle.WaitText(LoginThrottle.BlockTime));
        await audit.RecordAsync(
            actor, "login.blocked", actor == "unknown" ? null : actor, source: from,
            details: Reason($"{LoginThrottle.BlockAfter} failed sign-ins; blocked for {LoginThrottle.WaitText(LoginThrottle.BlockTime)}"),
            cancellationToken: cancellationToken);
    }

    private static Dictionary<string, string> Reason(string reason) => new(StringComparer.Ordinal) { ["reason"] = reason };

    // The fixed "Login failed ... from ADDRESS" wording is what fail2ban filters match.
    [LoggerMessage(EventId = 2000, Level = LogLevel.Warning, Message = "Login failed for user {UserName} from {Source}: {Reason}")]
    private static partial void LogLoginFailed(ILogger logger, string userName, string source, string reason);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Login failed for an unknown account from {Source}")]
    private static partial void LogUnknownAccount(ILogger logger, string source);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Login refused from {Source}: {Why}, wait {Wait}")]
    private static partial void LogLoginThrottled(ILogger logger, string source, string why, string wait);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Login blocked from {Source} after {Failures} failures, for {Duration}")]
    private static partial void LogLoginBlocked(ILogger logger, string source, int failures, string duration);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Login of user {UserName} from {Source}")]
    private static partial void LogLoginSucceeded(ILogger logger, string userName, string source);
}
