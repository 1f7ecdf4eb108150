namespace PrivateServer.Server.Accounts;

/// <summary>Why a set-password link was sent.</summary>
public enum PasswordLinkPurpose
{
    /// <summary>A new user sets a first password (valid 72 h).</summary>
    Invitation,

    /// <summary>A user who forgot the password sets a new one (valid 1 h).</summary>
    Reset,
}

/// <summary>A single-use set-password link; only the SHA-256 of its token is kept.</summary>
public sealed record PasswordLink(
    string Id, string Hash, string User, PasswordLinkPurpose Purpose, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? UsedAt)
{
    public bool IsLive(DateTimeOffset now) => UsedAt is null && ExpiresAt > now;
}

/// <summary>Where set-password links are kept.</summary>
public interface IPasswordLinkStore
{
    /// <summary>Adds a link; older unused links of the same user and purpose stop working (only the newest mail counts).</summary>
    Task AddAsync(PasswordLink link, CancellationToken cancellationToken);

    Task<PasswordLink?> FindAsync(string hash, CancellationToken cancellationToken);

    /// <summary>The newest link of the user for the purpose, used or not; null when there is none.</summary>
    Task<PasswordLink?> NewestAsync(string user, PasswordLinkPurpose purpose, CancellationToken cancellationToken);

    /// <summary>Marks a live link used; null when it is unknown, used or expired (so only one caller ever gets it).</summary>
    Task<PasswordLink?> RedeemAsync(string hash, DateTimeOffset now, CancellationToken cancellationToken);
}
