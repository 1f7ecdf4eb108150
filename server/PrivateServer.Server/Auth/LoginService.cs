using System.Net;
using Microsoft.Extensions.Logging;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Audit;

namespace PrivateServer.Server.Auth;

/// <summary>
/// How a sign-in went: the signed-in user, or null; <see cref="WaitFor"/> when it was refused unchecked (too many
/// failures); <see cref="SecondFactor"/> when the password was right and a second factor has to follow.
/// </summary>
public sealed record LoginOutcome(User? User, TimeSpan? WaitFor = null)
{
    /// <summary>Password right, second factor still to come: whose password it was and what they have to do.</summary>
    public PendingSecondFactor? SecondFactor { get; init; }
}

/// <summary>A user whose password was right and who still has to give a code (<see cref="SecondFactorStep.Code"/>) or set up an authenticator (<see cref="SecondFactorStep.Enrol"/>).</summary>
public sealed record PendingSecondFactor(User User, SecondFactorStep Step);

/// <summary>
/// Checks a user's password (and second factor) and records the outcome, behind the brute-force throttle
/// (<see cref="LoginThrottle"/>). Never tells whether an account exists: unknown names are checked, counted and throttled
/// the same way. A wrong second-factor code counts as a failed sign-in like a wrong password.
/// </summary>
public sealed partial class LoginService(
    IUserStore users, PasswordService passwords, AuditTrail audit, LoginThrottle throttle, TwoFactor twoFactor, NetworkRules networks, ILogger<LoginService> logger)
{
    /// <summary>The first step: the password. A user with a second factor gets <see cref="LoginOutcome.SecondFactor"/> instead of a sign-in.</summary>
    public Task<LoginOutcome> SignInAsync(string? name, string? password, IPAddress? source, CancellationToken cancellationToken) =>
        SignInAsync(name, password, null, source, cancellationToken);

    /// <summary>Password and, when given, the second-factor code at once (the supporter module's <c>login --totp</c>).</summary>
    public async Task<LoginOutcome> SignInAsync(string? name, string? password, string? secondFactor, IPAddress? source, CancellationToken cancellationToken)
    {
        password ??= string.Empty;
        var from = source?.ToString() ?? "local";
        if (await RefusedAsync(name, source, from, cancellationToken) is { } refused)
        {
            return refused;
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
            return await FailAsync(user, user.Disabled ? "account disabled" : "wrong password", source, from, cancellationToken);
        }

        if (await networks.SignInRefusalAsync(user, source, cancellationToken) is { } outside)
        {
            // Answered like a wrong password (the address must not learn that the password was right); the trail and log say why.
            return await FailAsync(user, "address not allowed: " + outside, source, from, cancellationToken);
        }

        if (check == PasswordCheck.ValidRehashNeeded)
        {
            var (old, rehashed) = (user.PasswordHash, passwords.Hash(password));
            var change = new AtomicChange();
            // Only if the password is still the one checked: a change in between is not undone.
            change.UserEdits.Add(new UserEdit(user.Name, stored => stored.PasswordHash == old ? stored with { PasswordHash = rehashed } : stored));
            await audit.WriteAsync(change, cancellationToken);
            user = user with { PasswordHash = rehashed };
        }

        var step = await twoFactor.NextStepAsync(user, cancellationToken);
        if (step == SecondFactorStep.None)
        {
            return await SucceedAsync(user, "none", from, cancellationToken);
        }

        if (step == SecondFactorStep.Code && !string.IsNullOrWhiteSpace(secondFactor))
        {
            return await CheckSecondFactorAsync(user, secondFactor, source, from, cancellationToken);
        }

        return new LoginOutcome(null) { SecondFactor = new PendingSecondFactor(user, step) };
    }

    /// <summary>
    /// The second step, after <see cref="SignInAsync(string?, string?, IPAddress?, CancellationToken)"/> asked for a code:
    /// <paramref name="credential"/> is the fingerprint of the password hash the first step checked (a password changed
    /// in between sends the user back to the first step).
    /// </summary>
    public async Task<LoginOutcome> SecondStepAsync(string name, string credential, string? code, IPAddress? source, CancellationToken cancellationToken)
    {
        var from = source?.ToString() ?? "local";
        if (await RefusedAsync(name, source, from, cancellationToken) is { } refused)
        {
            return refused;
        }

        var user = await PendingUserAsync(name, credential, source, cancellationToken);
        if (user is null)
        {
            return new LoginOutcome(null);
        }

        // An admin may have reset the second factor (or the requirement changed) since the password step.
        return await twoFactor.NextStepAsync(user, cancellationToken) switch
        {
            SecondFactorStep.Code => await CheckSecondFactorAsync(user, code, source, from, cancellationToken),
            SecondFactorStep.Enrol => new LoginOutcome(null) { SecondFactor = new PendingSecondFactor(user, SecondFactorStep.Enrol) },
            _ => await SucceedAsync(user, "none", from, cancellationToken),
        };
    }

    /// <summary>
    /// Forced set-up at sign-in: the user's password was right, a second factor is required and they had none. The code
    /// from the new authenticator signs them in; returns the recovery codes to show once (null: wrong code, nothing kept).
    /// </summary>
    public async Task<(LoginOutcome Outcome, IReadOnlyList<string>? RecoveryCodes)> EnrolAsync(
        string name, string credential, string secret, string? code, IPAddress? source, CancellationToken cancellationToken)
    {
        var from = source?.ToString() ?? "local";
        if (await RefusedAsync(name, source, from, cancellationToken) is { } refused)
        {
            return (refused, null);
        }

        var user = await PendingUserAsync(name, credential, source, cancellationToken);
        if (user is null || user.TwoFactor is not null)
        {
            return (new LoginOutcome(null), null);
        }

        // A wrong code here is a typo with the user's own new secret, not a guess: it does not count as a failure.
        var codes = await twoFactor.EnrolAsync(user.Name, secret, code, from, cancellationToken, onlyIfNone: true);
        return codes is null ? (new LoginOutcome(null) { SecondFactor = new PendingSecondFactor(user, SecondFactorStep.Enrol) }, null)
            : (await SucceedAsync(await users.FindAsync(user.Name, cancellationToken) ?? user, "totp (set up now)", from, cancellationToken), codes);
    }

    private async Task<User?> PendingUserAsync(string name, string credential, IPAddress? source, CancellationToken cancellationToken)
    {
        var user = AccountName.IsValid(name) ? await users.FindAsync(name, cancellationToken) : null;
        return user is null || user.Disabled || !string.Equals(Credential(user), credential, StringComparison.Ordinal)
            || await networks.SignInRefusalAsync(user, source, cancellationToken) is not null ? null : user;
    }

    /// <summary>A fingerprint of the user's password hash (never the hash itself): changes with every new password (cookies and pending sign-ins carry it).</summary>
    public static string Credential(User user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return SecretToken.Hash("credential:" + user.PasswordHash)[..24];
    }

    private async Task<LoginOutcome> CheckSecondFactorAsync(User user, string? code, IPAddress? source, string from, CancellationToken cancellationToken)
    {
        var check = await twoFactor.VerifyAsync(user.Name, code, cancellationToken);
        return check == SecondFactorCheck.Invalid
            ? await FailAsync(user, "wrong second-factor code", source, from, cancellationToken) with
            {
                SecondFactor = new PendingSecondFactor(user, SecondFactorStep.Code),
            }
            : await SucceedAsync(user, check == SecondFactorCheck.Totp ? "totp" : "recovery code", from, cancellationToken);
    }

    private async Task<LoginOutcome?> RefusedAsync(string? name, IPAddress? source, string from, CancellationToken cancellationToken)
    {
        var verdict = throttle.Check(name, source);
        if (verdict.WaitFor is not { } wait)
        {
            return null;
        }

        // Refused without looking at the password; fail2ban matches "Login refused ... from ADDRESS".
        LogLoginThrottled(logger, from, verdict.Blocked ? "blocked" : "too early", LoginThrottle.WaitText(wait));
        if (verdict.BlockStarted)
        {
            await RecordBlockAsync("unknown", from, cancellationToken);
        }

        return new LoginOutcome(null, wait);
    }

    private async Task<LoginOutcome> FailAsync(User user, string reason, IPAddress? source, string from, CancellationToken cancellationToken)
    {
        LogLoginFailed(logger, user.Name, from, reason);
        await audit.RecordAsync(user.Name, "login.failed", user.Name, source: from, details: Reason(reason), cancellationToken: cancellationToken);
        await CountFailureAsync(user.Name, source, from, user.Name, cancellationToken);
        return new LoginOutcome(null);
    }

    private async Task<LoginOutcome> SucceedAsync(User user, string secondFactor, string from, CancellationToken cancellationToken)
    {
        throttle.Succeeded(user.Name);
        LogLoginSucceeded(logger, user.Name, from);
        await audit.RecordAsync(
            user.Name, "login.ok", user.Name, source: from, details: AuditTrail.Details(("second-factor", secondFactor)), cancellationToken: cancellationToken);
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
