using Microsoft.Extensions.Logging;
using PrivateServer.Server.Audit;

namespace PrivateServer.Server.Auth;

/// <summary>The sessions a server holds right now, by supporter (the session broker, when the server runs).</summary>
public interface ILiveSessions
{
    /// <summary>Ends every live session of <paramref name="supporter"/>, telling both sides <paramref name="reason"/>; returns how many.</summary>
    Task<int> EndForSupporterAsync(string supporter, string reason, CancellationToken cancellationToken);
}

/// <summary>
/// Takes back what a user holds when their password changes, their account is disabled or its role changes, or an admin
/// signs them out: every bearer token of the supporter module and every live session. Browser cookies need nothing here:
/// they carry a fingerprint of the password hash and the role, checked on every request (<c>WebUsers</c>).
/// </summary>
public sealed partial class UserRevocation(AuditTrail audit, ILogger<UserRevocation> logger, ILiveSessions? sessions = null)
{
    /// <summary>Revokes the tokens and ends the sessions of <paramref name="user"/>; returns how many of each.</summary>
    public async Task<(int Tokens, int Sessions)> RevokeAsync(string user, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        // Tokens first, with the event that counts them, in one transaction (no token survives a sign-out the trail
        // records, and nobody starts a new session with one while the live ones end); then every live session ends,
        // each with its own session.ended event giving the same reason, and its protocol.
        var removed = 0;
        var change = new AtomicChange();
        change.TokenRevocations.Add(new TokenRevocation(user, count =>
        {
            removed = count;
            return audit.ChangeEntry(
                "user.signed-out", user, AuditTrail.Details(("reason", reason), ("tokens", count.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        }));
        await audit.WriteAsync(change, CancellationToken.None);
        var ended = sessions is null ? 0 : await sessions.EndForSupporterAsync(user, reason, cancellationToken);
        LogRevoked(logger, user, removed, ended, reason);
        return (removed, ended);
    }

    [LoggerMessage(EventId = 2005, Level = LogLevel.Information, Message = "Signed {UserName} out everywhere ({Tokens} tokens, {Sessions} live sessions): {Reason}")]
    private static partial void LogRevoked(ILogger logger, string userName, int tokens, int sessions, string reason);
}
