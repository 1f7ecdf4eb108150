using LiteDB;
using PrivateServer.Server.Accounts;

namespace PrivateServer.Server.Storage;

/// <summary>Groups in the <c>groups</c> collection, keyed by normalised name.</summary>
internal sealed class LiteDbGroupStore(ApplianceDatabase database) : IGroupStore
{
    private ILiteCollection<GroupDocument> Groups => database.Lite.GetCollection<GroupDocument>("groups");

    public Task<Group?> FindAsync(string name, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Groups.FindById(AccountName.Normalize(name))?.ToGroup());
    }

    public Task<bool> TryAddAsync(Group group, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(TryInsert(database, group));
    }

    /// <summary>Inserts a group (inside the caller's transaction, if any); false when the name exists in any case.</summary>
    internal static bool TryInsert(ApplianceDatabase database, Group group)
    {
        var groups = database.Lite.GetCollection<GroupDocument>("groups");
        // Looked up first: inside a transaction a failed insert would end the whole transaction.
        if (groups.FindById(AccountName.Normalize(group.Name)) is not null)
        {
            return false;
        }

        try
        {
            groups.Insert(GroupDocument.From(group));
            return true;
        }
        catch (LiteException ex) when (ex.ErrorCode == LiteException.INDEX_DUPLICATE_KEY)
        {
            return false;
        }
    }

    /// <summary>Replaces a stored group (inside the caller's transaction, if any).</summary>
    internal static void Replace(ApplianceDatabase database, Group group)
    {
        if (!database.Lite.GetCollection<GroupDocument>("groups").Update(GroupDocument.From(group)))
        {
            throw new InvalidOperationException($"Group '{group.Name}' does not exist.");
        }
    }

    public Task<IReadOnlyList<Group>> ListAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        IReadOnlyList<Group> groups = Groups.FindAll().Select(d => d.ToGroup()).OrderBy(g => g.Name, StringComparer.OrdinalIgnoreCase).ToList();
        return Task.FromResult(groups);
    }

    public Task UpdateAsync(Group group, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(group);
        cancellationToken.ThrowIfCancellationRequested();
        Groups.Update(GroupDocument.From(group));
        return Task.CompletedTask;
    }

    internal sealed class GroupDocument
    {
        [BsonId]
        public string Id { get; set; } = string.Empty;

        public string Name { get; set; } = string.Empty;

        public UnattendedConsent UnattendedConsent { get; set; }

        public DateTime CreatedAt { get; set; }

        /// <summary>Null in groups written before policies had features: all features.</summary>
        public List<string>? Features { get; set; }

        public bool Recording { get; set; }

        public bool RequireTwoFactor { get; set; }

        public List<string>? SignInFrom { get; set; }

        public List<string>? HostsFrom { get; set; }

        /// <summary>Null in groups written before the file-size limit: the default.</summary>
        public long? MaxFileSize { get; set; }

        public static GroupDocument From(Group group) => new()
        {
            Id = AccountName.Normalize(group.Name),
            Name = group.Name,
            UnattendedConsent = group.UnattendedConsent,
            CreatedAt = group.CreatedAt.UtcDateTime,
            Features = group.Features.ToList(),
            Recording = group.Recording,
            RequireTwoFactor = group.RequireTwoFactor,
            SignInFrom = [.. group.SignInFrom],
            HostsFrom = [.. group.HostsFrom],
            MaxFileSize = group.MaxFileSize,
        };

        public Group ToGroup() => new(Name, UnattendedConsent, StorageMapper.Utc(CreatedAt))
        {
            Features = Features ?? [.. GroupFeatures.Default],
            Recording = Recording,
            RequireTwoFactor = RequireTwoFactor,
            SignInFrom = SignInFrom ?? [],
            HostsFrom = HostsFrom ?? [],
            MaxFileSize = MaxFileSize ?? GroupFeatures.DefaultMaxFileSize,
        };
    }
}
