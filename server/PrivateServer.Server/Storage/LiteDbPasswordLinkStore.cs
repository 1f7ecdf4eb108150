using LiteDB;
using PrivateServer.Server.Accounts;

namespace PrivateServer.Server.Storage;

/// <summary>Set-password links in <c>passwordLinks</c> (by random id, indexed by the token's hash and the user).</summary>
internal sealed class LiteDbPasswordLinkStore(ApplianceDatabase database) : IPasswordLinkStore, IDisposable
{
    private readonly SemaphoreSlim _write = new(1, 1);

    private ILiteCollection<LinkDocument> Links => Open(database);

    private static ILiteCollection<LinkDocument> Open(ApplianceDatabase database)
    {
        var links = database.Lite.GetCollection<LinkDocument>("passwordLinks");
        links.EnsureIndex(l => l.Hash);
        links.EnsureIndex(l => l.User);
        return links;
    }

    public async Task AddAsync(PasswordLink link, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(link);
        await _write.WaitAsync(cancellationToken);
        try
        {
            Write(database, link);
        }
        finally
        {
            _write.Release();
        }
    }

    /// <summary>Adds a link and ends the older unused ones of its user and purpose; inside the caller's transaction.</summary>
    internal static void Write(ApplianceDatabase database, PasswordLink link)
    {
        var links = Open(database);
        var purpose = link.Purpose.ToString();
        links.DeleteMany(l => l.User == link.User && l.Purpose == purpose && l.UsedAt == null);
        links.Insert(LinkDocument.From(link));
    }

    public Task<PasswordLink?> FindAsync(string hash, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Links.FindOne(l => l.Hash == hash)?.ToLink());
    }

    public Task<PasswordLink?> NewestAsync(string user, PasswordLinkPurpose purpose, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var kind = purpose.ToString();
        return Task.FromResult(Links.Find(l => l.User == user && l.Purpose == kind).OrderByDescending(l => l.CreatedAt).FirstOrDefault()?.ToLink());
    }

    public async Task<PasswordLink?> RedeemAsync(string hash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await _write.WaitAsync(cancellationToken);
        try
        {
            var link = Links.FindOne(l => l.Hash == hash)?.ToLink();
            if (link is null || !link.IsLive(now))
            {
                return null;
            }

            var used = link with { UsedAt = now };
            // A newer link of the same kind may have replaced (deleted) this one since it was read.
            return Links.Update(LinkDocument.From(used)) ? used : null;
        }
        finally
        {
            _write.Release();
        }
    }

    public void Dispose() => _write.Dispose();

    internal sealed class LinkDocument
    {
        [BsonId]
        public string Id { get; set; } = string.Empty;

        public string Hash { get; set; } = string.Empty;

        public string User { get; set; } = string.Empty;

        public string Purpose { get; set; } = string.Empty;

        public DateTime CreatedAt { get; set; }

        public DateTime ExpiresAt { get; set; }

        public DateTime? UsedAt { get; set; }

        public static LinkDocument From(PasswordLink link) => new()
        {
            Id = link.Id,
            Hash = link.Hash,
            User = link.User,
            Purpose = link.Purpose.ToString(),
            CreatedAt = link.CreatedAt.UtcDateTime,
            ExpiresAt = link.ExpiresAt.UtcDateTime,
            UsedAt = link.UsedAt?.UtcDateTime,
        };

        public PasswordLink ToLink() => new(
            Id, Hash, User, Enum.Parse<PasswordLinkPurpose>(Purpose), StorageMapper.Utc(CreatedAt), StorageMapper.Utc(ExpiresAt),
            UsedAt is { } used ? StorageMapper.Utc(used) : null);
    }
}
