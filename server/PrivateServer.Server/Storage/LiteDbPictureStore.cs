using LiteDB;
using PrivateServer.Server.Accounts;

namespace PrivateServer.Server.Storage;

/// <summary>Profile pictures in <c>pictures</c>, keyed by the user's name in lower case (inside the encrypted database, so backups carry them).</summary>
internal sealed class LiteDbPictureStore(ApplianceDatabase database) : IPictureStore
{
    private ILiteCollection<PictureDocument> Pictures => database.Lite.GetCollection<PictureDocument>("pictures");

    public Task<ProfilePicture?> FindAsync(string user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        cancellationToken.ThrowIfCancellationRequested();
        var document = Pictures.FindById(user.ToLowerInvariant());
        return Task.FromResult(document is null
            ? null
            : new ProfilePicture(document.ContentType, document.Bytes, StorageMapper.Utc(document.UpdatedAt)));
    }

    public Task SetAsync(string user, ProfilePicture picture, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(picture);
        cancellationToken.ThrowIfCancellationRequested();
        Pictures.Upsert(new PictureDocument
        {
            Id = user.ToLowerInvariant(),
            ContentType = picture.ContentType,
            Bytes = picture.Bytes,
            UpdatedAt = picture.UpdatedAt.UtcDateTime,
        });
        return Task.CompletedTask;
    }

    public Task RemoveAsync(string user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        cancellationToken.ThrowIfCancellationRequested();
        Pictures.Delete(user.ToLowerInvariant());
        return Task.CompletedTask;
    }

    internal sealed class PictureDocument
    {
        [BsonId]
        public string Id { get; set; } = string.Empty;

        public string ContentType { get; set; } = string.Empty;

        public byte[] Bytes { get; set; } = [];

        public DateTime UpdatedAt { get; set; }
    }
}
