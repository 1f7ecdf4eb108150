namespace PrivateServer.Server.Accounts;

/// <summary>Where users are kept (LiteDB now; a PostgreSQL backend can implement the same).</summary>
public interface IUserStore
{
    Task<User?> FindAsync(string name, CancellationToken cancellationToken);

    /// <summary>Adds the user; false when a user with that name (case-insensitive) exists.</summary>
    Task<bool> TryAddAsync(User user, CancellationToken cancellationToken);

    /// <summary>Writes the user back: role, groups, e-mail, password, state — not the second factor, which only <see cref="SetTwoFactorAsync"/> changes.</summary>
    Task UpdateAsync(User user, CancellationToken cancellationToken);

    /// <summary>Stores the user's second factor, or removes it (null).</summary>
    Task SetTwoFactorAsync(string name, TwoFactorEnrolment? enrolment, CancellationToken cancellationToken);

    Task<IReadOnlyList<User>> ListAsync(CancellationToken cancellationToken);
}
