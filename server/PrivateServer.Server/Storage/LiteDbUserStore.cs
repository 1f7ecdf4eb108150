using LiteDB;
using PrivateServer.Server.Accounts;

namespace PrivateServer.Server.Storage;

/// <summary>
/// Users in the <c>users</c> collection, keyed by normalised name; their second factor in <c>twoFactor</c> under the same
/// key. Kept apart so that writing a user back (role, groups, password) can never undo a second-factor change made in
/// between — a used code or recovery code stays used, a removed authenticator stays removed.
/// </summary>
internal sealed class LiteDbUserStore(ApplianceDatabase database) : IUserStore
{
    private const string UsersCollection = "users";
    private const string TwoFactorCollection = "twoFactor";

    private ILiteCollection<UserDocument> Users => database.Lite.GetCollection<UserDocument>(UsersCollection);

    private ILiteCollection<TwoFactorDocument> TwoFactors => database.Lite.GetCollection<TwoFactorDocument>(TwoFactorCollection);

    public Task<User?> FindAsync(string name, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var id = AccountName.Normalize(name);
        return Task.FromResult(Users.FindById(id)?.ToUser(TwoFactors.FindById(id)));
    }

    public Task<bool> TryAddAsync(User user, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(TryInsert(database, user));
    }

    /// <summary>Inserts a user (inside the caller's transaction, if any); false when the name exists in any case.</summary>
    internal static bool TryInsert(ApplianceDatabase database, User user)
    {
        var users = database.Lite.GetCollection<UserDocument>(UsersCollection);
        // Looked up first: inside a transaction a failed insert would end the whole transaction. The unique _id (the
        // normalised name) still makes a racing insert fail instead of doubling the user.
        if (users.FindById(AccountName.Normalize(user.Name)) is not null)
        {
            return false;
        }

        try
        {
            users.Insert(UserDocument.From(user));
        }
        catch (LiteException ex) when (ex.ErrorCode == LiteException.INDEX_DUPLICATE_KEY)
        {
            return false;
        }

        SetTwoFactor(database, user.Name, user.TwoFactor);
        return true;
    }

    /// <summary>Writes role, groups, e-mail, password and state back; the second factor is not touched (<see cref="SetTwoFactorAsync"/>).</summary>
    public Task UpdateAsync(User user, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Replace(database, user);
        return Task.CompletedTask;
    }

    public Task SetTwoFactorAsync(string name, TwoFactorEnrolment? enrolment, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        SetTwoFactor(database, name, enrolment);
        return Task.CompletedTask;
    }

    /// <summary>Replaces a stored user but its second factor (inside the caller's transaction, if any).</summary>
    internal static void Replace(ApplianceDatabase database, User user)
    {
        if (!database.Lite.GetCollection<UserDocument>(UsersCollection).Update(UserDocument.From(user)))
        {
            throw new InvalidOperationException($"User '{user.Name}' does not exist.");
        }
    }

    /// <summary>Changes the user as stored now (inside the caller's transaction): the edit sees what others wrote before it.</summary>
    internal static User Edit(ApplianceDatabase database, string name, Func<User, User> edit)
    {
        var stored = database.Lite.GetCollection<UserDocument>(UsersCollection).FindById(AccountName.Normalize(name))?.ToUser(null)
            ?? throw new InvalidOperationException($"User '{name}' does not exist.");
        var changed = edit(stored);
        Replace(database, changed);
        return changed;
    }

    /// <summary>Stores or (null) removes a user's second factor (inside the caller's transaction, if any).</summary>
    internal static void SetTwoFactor(ApplianceDatabase database, string name, TwoFactorEnrolment? enrolment)
    {
        var twoFactors = database.Lite.GetCollection<TwoFactorDocument>(TwoFactorCollection);
        var id = AccountName.Normalize(name);
        if (enrolment is null)
        {
            twoFactors.Delete(id);
        }
        else
        {
            twoFactors.Upsert(TwoFactorDocument.From(id, enrolment));
        }
    }

    public Task<IReadOnlyList<User>> ListAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var twoFactors = TwoFactors.FindAll().ToDictionary(d => d.Id, StringComparer.Ordinal);
        IReadOnlyList<User> users = Users.FindAll()
            .Select(d => d.ToUser(twoFactors.GetValueOrDefault(d.Id)))
            .OrderBy(u => u.Name, StringComparer.OrdinalIgnoreCase)
            .ToList();
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
        };

        public User ToUser(TwoFactorDocument? twoFactor) => new(Name, Role, Groups, Email, PasswordHash, Disabled, StorageMapper.Utc(CreatedAt))
        {
            TwoFactor = twoFactor?.ToEnrolment(),
        };
    }

    /// <summary>A user's authenticator secret (the database is encrypted), the last step used and the hashes of the unused recovery codes.</summary>
    internal sealed class TwoFactorDocument
    {
        [BsonId]
        public string Id { get; set; } = string.Empty;

        public string Secret { get; set; } = string.Empty;

        public DateTime EnrolledAt { get; set; }

        public long LastStep { get; set; }

        public List<string> RecoveryCodeHashes { get; set; } = [];

        public static TwoFactorDocument From(string id, TwoFactorEnrolment enrolment) => new()
        {
            Id = id,
            Secret = enrolment.Secret,
            EnrolledAt = enrolment.EnrolledAt.UtcDateTime,
            LastStep = enrolment.LastStep,
            RecoveryCodeHashes = [.. enrolment.RecoveryCodeHashes],
        };

        public TwoFactorEnrolment ToEnrolment() => new(Secret, StorageMapper.Utc(EnrolledAt), LastStep, RecoveryCodeHashes);
    }
}
