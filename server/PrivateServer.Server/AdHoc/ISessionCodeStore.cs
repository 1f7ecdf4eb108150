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

/// <summary>What redeeming a code did; <see cref="Code"/> is set unless the code is unknown.</summary>
public sealed record CodeRedemption(CodeRedemptionStatus Status, SessionCodeRecord? Code);

/// <summary>Where session codes are kept (LiteDB now; a PostgreSQL backend can implement the same).</summary>
public interface ISessionCodeStore
{
    /// <summary>Adds a code unless a live code with the same hash exists (then false: draw another).</summary>
    Task<bool> TryAddAsync(SessionCodeRecord code, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The newest code with this hash: the live one if there is one.</summary>
    Task<SessionCodeRecord?> FindAsync(string hash, CancellationToken cancellationToken);

    /// <summary>Marks the live code with this hash redeemed, in one step: a code is redeemed once.</summary>
    Task<CodeRedemption> RedeemAsync(string hash, DateTimeOffset now, string source, CancellationToken cancellationToken);

    /// <summary>Forgets codes that expired or were redeemed before <paramref name="cutoff"/>.</summary>
    Task RemoveOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken);
}
