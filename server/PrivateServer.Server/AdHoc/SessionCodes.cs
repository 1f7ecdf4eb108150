using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using PrivateServer.Protocol.Sessions;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Settings;

namespace PrivateServer.Server.AdHoc;

/// <summary>
/// Issues and redeems ad-hoc session codes: 8 random digits from the platform's cryptographic RNG,
/// bound to the supporter who asked, valid for <see cref="AdHocOptions.CodeLifetime"/>, redeemed
/// once; never two live codes alike. Every redemption attempt passes the <see cref="CodeAttemptLimiter"/>
/// and is logged.
/// </summary>
public sealed partial class SessionCodes(
    ISessionCodeStore store, CodeAttemptLimiter limiter, SettingsService settings, AuditTrail audit, TimeProvider time, ILogger<SessionCodes> logger)
{
    private const int CodeSpace = 100_000_000;
    private static readonly TimeSpan KeptAfterExpiry = TimeSpan.FromDays(7);

    /// <summary>A new live code for <paramref name="supporter"/> and when it expires.</summary>
    public async Task<(string Code, DateTimeOffset ExpiresAt)> CreateAsync(User supporter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(supporter);
        var now = time.GetUtcNow();
        await store.RemoveOlderThanAsync(now - KeptAfterExpiry, cancellationToken);
        var expires = now + (await settings.CurrentAsync(cancellationToken)).CodeLifetime;
        // With 10⁸ codes a collision with a live one is rare; a few draws make it vanish.
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var code = RandomNumberGenerator.GetInt32(CodeSpace).ToString("D8", System.Globalization.CultureInfo.InvariantCulture);
            var record = new SessionCodeRecord("sc-" + SecretToken.New()[..16], Hash(code), supporter.Name, now, expires, null, null);
            var change = new AtomicChange();
            change.NewSessionCodes.Add(record);
            change.Audit.Add(audit.Entry(
                supporter.Name, "code.created", record.Id, details: AuditTrail.Details(("expires", expires.ToString("O", System.Globalization.CultureInfo.InvariantCulture)))));
            try
            {
                await audit.WriteAsync(change, CancellationToken.None);
            }
            catch (AtomicConflictException)
            {
                continue;
            }

            LogCodeCreated(logger, supporter.Name, record.Id, expires);
            return (code, expires);
        }

        throw new InvalidOperationException("no free session code was found in 20 draws");
    }

    /// <summary>The live code of this text if it belongs to <paramref name="supporter"/>; else why not.</summary>
    public async Task<(SessionCodeRecord? Code, string? Problem)> FindOwnAsync(string text, User supporter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(supporter);
        var notYours = "no live session code " + Shown(text) + " of yours (create one with 'privateserver-supporter code')";
        if (!SessionCode.TryParse(text, out var code))
        {
            return (null, $"'{Shown(text)}' is not a session code (8 digits)");
        }

        var record = await store.FindAsync(Hash(code), cancellationToken);
        if (record is null || !string.Equals(record.Supporter, supporter.Name, StringComparison.OrdinalIgnoreCase))
        {
            return (null, notYours);
        }

        var now = time.GetUtcNow();
        return record.RedeemedAt is null && record.ExpiresAt <= now
            ? (null, $"the session code {SessionCode.Format(code)} expired at {record.ExpiresAt:u}; create a new one")
            : (record, null);
    }

    /// <summary>
    /// Redeems a code a customer typed, after the limiter allowed the attempt. Every attempt is logged
    /// with its source; a refusal says what people need (wrong, expired, used, or wait).
    /// </summary>
    public async Task<(SessionCodeRecord? Code, string? Refusal)> RedeemAsync(string? text, IPAddress? source, CancellationToken cancellationToken)
    {
        var from = source?.ToString() ?? "an unknown address";
        var verdict = limiter.Check(source);
        if (!verdict.Allowed)
        {
            LogAttemptRefused(logger, from, verdict.Blocked ? "blocked" : "too early", (int)Math.Ceiling(verdict.RetryAfter.TotalSeconds));
            var wait = verdict.RetryAfter.TotalSeconds >= 90
                ? $"{Math.Ceiling(verdict.RetryAfter.TotalMinutes):0} minutes"
                : $"{Math.Ceiling(verdict.RetryAfter.TotalSeconds):0} s";
            return (null, $"too many wrong session codes; try again in {wait}");
        }

        // The log names the kind of failure, never the digits.
        var status = SessionCode.TryParse(text, out var code) ? (CodeRedemptionStatus?)null : CodeRedemptionStatus.Unknown;
        SessionCodeRecord? redeemed = null;
        if (status is null)
        {
            (status, redeemed) = await RedeemAsync(code, from, cancellationToken);
        }

        if (status != CodeRedemptionStatus.Redeemed)
        {
            limiter.RecordFailure(source);
            var failure = code.Length == 0 ? "malformed" : status.ToString()!.ToLowerInvariant();
            LogAttemptFailed(logger, from, failure);
            // Like the log: the kind of failure and the source, never the digits. The limiter bounds how many there can be.
            await audit.RecordAsync("customer", "code.attempt-failed", source: from, details: AuditTrail.Details(("reason", failure)), cancellationToken: CancellationToken.None);
            return (null, status switch
            {
                _ when code.Length == 0 => "a session code has 8 digits",
                CodeRedemptionStatus.Expired => $"the session code {SessionCode.Format(code)} has expired; ask your supporter for a new one",
                CodeRedemptionStatus.Used => $"the session code {SessionCode.Format(code)} was already used; ask your supporter for a new one",
                _ => $"there is no session code {SessionCode.Format(code)}; check the digits with your supporter",
            });
        }

        LogCodeRedeemed(logger, redeemed!.Id, redeemed.Supporter, from);
        return (redeemed, null);
    }

    /// <summary>
    /// Redeems the live code of these digits with its <c>code.redeemed</c> event in one transaction; when another customer
    /// was quicker (or the code expired in between), the next look says so.
    /// </summary>
    private async Task<(CodeRedemptionStatus Status, SessionCodeRecord? Code)> RedeemAsync(string code, string from, CancellationToken cancellationToken)
    {
        while (true)
        {
            var now = time.GetUtcNow();
            var record = await store.FindAsync(Hash(code), cancellationToken);
            if (record is null || record.RedeemedAt is not null || record.ExpiresAt <= now)
            {
                return (record is null ? CodeRedemptionStatus.Unknown : record.RedeemedAt is not null ? CodeRedemptionStatus.Used : CodeRedemptionStatus.Expired, record);
            }

            var change = new AtomicChange();
            change.SessionCodeUses.Add(new SessionCodeUse(record.Id, now, from));
            change.Audit.Add(audit.Entry("customer", "code.redeemed", record.Id, source: from, details: AuditTrail.Details(("supporter", record.Supporter))));
            try
            {
                await audit.WriteAsync(change, CancellationToken.None);
                return (CodeRedemptionStatus.Redeemed, record with { RedeemedAt = now, RedeemedFrom = from });
            }
            catch (AtomicConflictException)
            {
                // Used or expired meanwhile: the stored code now says which.
            }
        }
    }

    /// <summary>What the database keeps of a code: its SHA-256.</summary>
    public static string Hash(string code) => SecretToken.Hash("session-code:" + code);

    /// <summary>What a person typed, as a code is shown ("0123 4567"), or clipped and without control characters.</summary>
    internal static string Shown(string text)
    {
        var clean = new string(text.Where(c => !char.IsControl(c)).Take(20).ToArray());
        return SessionCode.TryParse(clean, out var code) ? SessionCode.Format(code) : clean;
    }

    [LoggerMessage(EventId = 3300, Level = LogLevel.Information, Message = "Session code {CodeId} created for {Supporter}, valid until {ExpiresAt:u}")]
    private static partial void LogCodeCreated(ILogger logger, string supporter, string codeId, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = 3301, Level = LogLevel.Information, Message = "Session code {CodeId} of {Supporter} redeemed from {Source}")]
    private static partial void LogCodeRedeemed(ILogger logger, string codeId, string supporter, string source);

    [LoggerMessage(EventId = 3302, Level = LogLevel.Warning, Message = "Session code attempt from {Source} failed: {Failure} code")]
    private static partial void LogAttemptFailed(ILogger logger, string source, string failure);

    [LoggerMessage(EventId = 3303, Level = LogLevel.Warning, Message = "Session code attempt from {Source} refused unseen ({Why}, retry after {RetryAfterSeconds} s)")]
    private static partial void LogAttemptRefused(ILogger logger, string source, string why, int retryAfterSeconds);
}
