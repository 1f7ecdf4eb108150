namespace PrivateServer.Server.Accounts;

/// <summary>Where users are kept (LiteDB now; a PostgreSQL backend can implement the same).</summary>
public interface IUserStore
{
    Task<User?> FindAsync(string name, CancellationToken cancellationToken);

    /// <summary>Adds the user; false when a user with that name (case-insensitive) exists.</summary>
    Task<bool> TryAddAsync(User user, CancellationToken cancellationToken);

    Task UpdateAsync(User user, CancellationToken cancellationToken);

    Task<IReadOnlyList<User>> ListAsync(CancellationToken cancellationToken);
}
