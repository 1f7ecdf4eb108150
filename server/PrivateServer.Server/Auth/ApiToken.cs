namespace PrivateServer.Server.Auth;

/// <summary>A supporter's bearer token for the module API, kept as the SHA-256 of the token.</summary>
public sealed record ApiToken(string Hash, string User, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt);

/// <summary>Where bearer tokens are kept, so that they survive restarts and can be revoked.</summary>
public interface IApiTokenStore
{
    Task AddAsync(ApiToken token, CancellationToken cancellationToken);

    Task<ApiToken?> FindAsync(string hash, CancellationToken cancellationToken);

    /// <summary>Removes every token of <paramref name="user"/> (signed out everywhere); returns how many.</summary>
    Task<int> RemoveForUserAsync(string user, CancellationToken cancellationToken);

    /// <summary>Removes tokens that expired before <paramref name="now"/>.</summary>
    Task RemoveExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken);
}
