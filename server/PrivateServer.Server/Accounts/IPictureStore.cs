namespace PrivateServer.Server.Accounts;

/// <summary>A profile picture uploaded to the appliance (never fetched from anywhere else).</summary>
public sealed record ProfilePicture(string ContentType, byte[] Bytes, DateTimeOffset UpdatedAt);

/// <summary>Where profile pictures are kept, one per user (LiteDB now; a PostgreSQL backend can implement the same).</summary>
public interface IPictureStore
{
    Task<ProfilePicture?> FindAsync(string user, CancellationToken cancellationToken);

    Task SetAsync(string user, ProfilePicture picture, CancellationToken cancellationToken);

    Task RemoveAsync(string user, CancellationToken cancellationToken);
}
