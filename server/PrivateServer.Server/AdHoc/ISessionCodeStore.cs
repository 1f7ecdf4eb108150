namespace PrivateServer.Server.AdHoc;

/// <summary>
/// A session code as the database keeps it: the SHA-256 of the 8 digits (never the digits), the
/// supporter it belongs to, its lifetime, and when and from where a customer redeemed it.
/// </summary>
public sealed record SessionCodeRecord(
    string Id,
    string Hash,
    string Supporter,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? RedeemedAt,
    string? RedeemedFrom)
{
    public bool IsLive(DateTimeOffset now) => RedeemedAt is null && ExpiresAt > now;
}

public enum CodeRedemptionStatus
{
    Redeemed,
    Unknown,
    Expired,
    Used,
}

/// <summary>Where session codes are kept (LiteDB now; a PostgreSQL backend can implement the same).</summary>
public interface ISessionCodeStore
{
    /// <summary>
    /// Adds a code unless a live code with the same hash exists (then false: draw another). The appliance adds codes
    /// with their event (<see cref="Audit.AtomicChange.NewSessionCodes"/>); this is the same write on its own.
    /// </summary>
    Task<bool> TryAddAsync(SessionCodeRecord code, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The newest code with this hash: the live one if there is one.</summary>
    Task<SessionCodeRecord?> FindAsync(string hash, CancellationToken cancellationToken);

    /// <summary>Forgets codes that expired or were redeemed before <paramref name="cutoff"/>.</summary>
    Task RemoveOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken);
}
