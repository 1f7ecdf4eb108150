namespace PrivateServer.Server.Hosts;

/// <summary>Where hosts and enrolment tokens are kept (LiteDB now; a PostgreSQL backend can implement the same).</summary>
public interface IHostStore
{
    Task<HostRecord?> FindAsync(string id, CancellationToken cancellationToken);

    Task<IReadOnlyList<HostRecord>> ListAsync(CancellationToken cancellationToken);

    Task AddTokenAsync(EnrollmentToken token, CancellationToken cancellationToken);

    /// <summary>
    /// Redeems a token and adds the host in one step: the token must exist, be unused and unexpired
    /// at <paramref name="now"/>. <paramref name="issue"/> makes the host (and its certificate) for the token's group.
    /// </summary>
    Task<EnrollmentOutcome> EnrollAsync(string tokenHash, DateTimeOffset now, Func<string, HostRecord> issue, CancellationToken cancellationToken);

    /// <summary>Records what a host announced and when it was last heard from.</summary>
    Task UpdatePresenceAsync(string id, DateTimeOffset lastSeen, string? os, string? moduleVersion, IReadOnlyList<string>? services, CancellationToken cancellationToken);

    /// <summary>Marks a host revoked; false when it does not exist.</summary>
    Task<bool> RevokeAsync(string id, DateTimeOffset at, CancellationToken cancellationToken);
}

public enum EnrollmentStatus
{
    Enrolled,
    UnknownToken,
    UsedToken,
    ExpiredToken,
}

public sealed record EnrollmentOutcome(EnrollmentStatus Status, HostRecord? Host);
