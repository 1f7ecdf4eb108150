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

public static class GroupStoreExtensions
{
    /// <summary>The stored groups a user is a member of (names that no longer exist are skipped).</summary>
    public static async Task<IReadOnlyList<Group>> GroupsOfAsync(this IGroupStore groups, User user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(user);
        var memberOf = new List<Group>(user.Groups.Count);
        foreach (var name in user.Groups)
        {
            if (await groups.FindAsync(name, cancellationToken) is { } group)
            {
                memberOf.Add(group);
            }
        }

        return memberOf;
    }
}
