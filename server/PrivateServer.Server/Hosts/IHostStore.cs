namespace PrivateServer.Server.Hosts;

/// <summary>Where hosts and enrolment tokens are kept (LiteDB now; a PostgreSQL backend can implement the same).</summary>
public interface IHostStore
{
    Task<HostRecord?> FindAsync(string id, CancellationToken cancellationToken);

    Task<IReadOnlyList<HostRecord>> ListAsync(CancellationToken cancellationToken);

    Task AddTokenAsync(EnrollmentToken token, CancellationToken cancellationToken);

    /// <summary>An enrolment token by its hash (enrolling with it is an <see cref="Audit.AtomicChange"/>).</summary>
    Task<EnrollmentToken?> FindTokenAsync(string hash, CancellationToken cancellationToken);

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
