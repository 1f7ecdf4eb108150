using LiteDB;
using PrivateServer.Server.Auth;

namespace PrivateServer.Server.Storage;

/// <summary>Bearer tokens in <c>apiTokens</c>, keyed by the token's SHA-256.</summary>
internal sealed class LiteDbApiTokenStore(ApplianceDatabase database) : IApiTokenStore
{
    private ILiteCollection<TokenDocument> Tokens => database.Lite.GetCollection<TokenDocument>("apiTokens");

    public Task AddAsync(ApiToken token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        cancellationToken.ThrowIfCancellationRequested();
        Tokens.Insert(new TokenDocument { Id = token.Hash, User = token.User, IssuedAt = token.IssuedAt.UtcDateTime, ExpiresAt = token.ExpiresAt.UtcDateTime });
        return Task.CompletedTask;
    }

    public Task<ApiToken?> FindAsync(string hash, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var document = Tokens.FindById(hash);
        return Task.FromResult(document is null ? null : new ApiToken(document.Id, document.User, StorageMapper.Utc(document.IssuedAt), StorageMapper.Utc(document.ExpiresAt)));
    }

    public Task<int> RemoveForUserAsync(string user, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(RemoveForUser(database, user));
    }

    /// <summary>Deletes every token of a user (inside the caller's transaction, if any); returns how many.</summary>
    internal static int RemoveForUser(ApplianceDatabase database, string user) =>
        database.Lite.GetCollection<TokenDocument>("apiTokens").DeleteMany(t => t.User == user);

    public Task RemoveExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var cutoff = now.UtcDateTime;
        Tokens.DeleteMany(t => t.ExpiresAt < cutoff);
        return Task.CompletedTask;
    }

    internal sealed class TokenDocument
    {
        [BsonId]
        public string Id { get; set; } = string.Empty;

        public string User { get; set; } = string.Empty;

        public DateTime IssuedAt { get; set; }

        public DateTime ExpiresAt { get; set; }
    }
}
