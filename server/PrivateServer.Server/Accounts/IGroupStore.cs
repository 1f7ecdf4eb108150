namespace PrivateServer.Server.Accounts;

/// <summary>Where groups are kept (LiteDB now; a PostgreSQL backend can implement the same).</summary>
public interface IGroupStore
{
    Task<Group?> FindAsync(string name, CancellationToken cancellationToken);

    /// <summary>Adds the group; false when a group with that name (case-insensitive) exists.</summary>
    Task<bool> TryAddAsync(Group group, CancellationToken cancellationToken);

    Task<IReadOnlyList<Group>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Replaces the policy of an existing group (matched by name, case-insensitive).</summary>
    Task UpdateAsync(Group group, CancellationToken cancellationToken);
}
