using LiteDB;
using PrivateServer.Server.Accounts;

namespace PrivateServer.Server.Storage;

/// <summary>Users in the <c>users</c> collection, keyed by normalised name.</summary>
internal sealed class LiteDbUserStore(ApplianceDatabase database) : IUserStore
{
    private ILiteCollection<UserDocument> Users => database.Lite.GetCollection<UserDocument>("users");

    public Task<User?> FindAsync(string name, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Users.FindById(AccountName.Normalize(name))?.ToUser());
    }

    public Task<bool> TryAddAsync(User user, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var document = UserDocument.From(user);
        // Insert fails on a duplicate key; the unique _id makes check-and-insert atomic.
        try
        {
            Users.Insert(document);
            return Task.FromResult(true);
        }
        catch (LiteException ex) when (ex.ErrorCode == LiteException.INDEX_DUPLICATE_KEY)
        {
            return Task.FromResult(false);
        }
    }

    public Task UpdateAsync(User user, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!Users.Update(UserDocument.From(user)))
        {
            throw new InvalidOperationException($"User '{user.Name}' does not exist.");
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<User>> ListAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        IReadOnlyList<User> users = Users.FindAll().Select(d => d.ToUser()).OrderBy(u => u.Name, StringComparer.OrdinalIgnoreCase).ToList();
        return Task.FromResult(users);
    }

    internal sealed class UserDocument
    {
        [BsonId]
        public string Id { get; set; } = string.Empty;

        public string Name { get; set; } = string.Empty;

        public Role Role { get; set; }

        public List<string> Groups { get; set; } = [];

        public string? Email { get; set; }

        public string PasswordHash { get; set; } = string.Empty;

        public bool Disabled { get; set; }

        public DateTime CreatedAt { get; set; }

        public string? TotpSecret { get; set; }

        public DateTime? TotpEnrolledAt { get; set; }

        public long TotpLastStep { get; set; }

        public List<string> RecoveryCodeHashes { get; set; } = [];

        public static UserDocument From(User user) => new()
        {
            Id = AccountName.Normalize(user.Name),
            Name = user.Name,
            Role = user.Role,
            Groups = [.. user.Groups],
            Email = user.Email,
            PasswordHash = user.PasswordHash,
            Disabled = user.Disabled,
            CreatedAt = user.CreatedAt.UtcDateTime,
            TotpSecret = user.TwoFactor?.Secret,
            TotpEnrolledAt = user.TwoFactor?.EnrolledAt.UtcDateTime,
            TotpLastStep = user.TwoFactor?.LastStep ?? 0,
            RecoveryCodeHashes = [.. user.TwoFactor?.RecoveryCodeHashes ?? []],
        };

        public User ToUser() => new(Name, Role, Groups, Email, PasswordHash, Disabled, StorageMapper.Utc(CreatedAt))
        {
            TwoFactor = TotpSecret is null
                ? null
                : new TwoFactorEnrolment(TotpSecret, StorageMapper.Utc(TotpEnrolledAt ?? CreatedAt), TotpLastStep, RecoveryCodeHashes),
        };
    }
}
