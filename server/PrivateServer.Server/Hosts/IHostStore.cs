namespace PrivateServer.Server.Hosts;

/// <summary>Where hosts and enrolment tokens are kept (LiteDB now; a PostgreSQL backend can implement the same).</summary>
public interface IHostStore
{
    Task<HostRecord?> FindAsync(string id, CancellationToken cancellationToken);

    Task<IReadOnlyList<HostRecord>> ListAsync(CancellationToken cancellationToken);

    Task AddTokenAsync(EnrollmentToken token, CancellationToken cancellationToken);

    /// <summary>
    /// Redeems a token and adds the host in one step: the token must exist, have uses left and be
    /// unexpired at <paramref name="now"/>; its use count grows in the same transaction as the insert.
    /// <paramref name="issue"/> makes the host (and its certificate) for the token's group.
    /// </summary>
    Task<EnrollmentOutcome> EnrollAsync(string tokenHash, DateTimeOffset now, Func<string, HostRecord> issue, CancellationToken cancellationToken);

    /// <summary>Records what a host announced and when it was last heard from.</summary>
    Task UpdatePresenceAsync(string id, DateTimeOffset lastSeen, string? os, string? moduleVersion, IReadOnlyList<string>? services, CancellationToken cancellationToken);

    /// <summary>Marks a host revoked; false when it does not exist.</summary>
    Task<bool> RevokeAsync(string id, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Moves a host to another group; false when there is no such host.</summary>
    Task<bool> MoveAsync(string id, string group, CancellationToken cancellationToken);

    Task<IReadOnlyList<EnrollmentToken>> ListTokensAsync(CancellationToken cancellationToken);

    /// <summary>Deletes an enrolment token by its hash; false when there is none.</summary>
    Task<bool> DeleteTokenAsync(string hash, CancellationToken cancellationToken);
}

public enum EnrollmentStatus
{
    Enrolled,
    UnknownToken,
    UsedToken,
    ExpiredToken,
}

/// <summary>What a redemption did; <see cref="MaxUses"/> is the token's limit when it is known.</summary>
public sealed record EnrollmentOutcome(EnrollmentStatus Status, HostRecord? Host, int MaxUses = 1);
