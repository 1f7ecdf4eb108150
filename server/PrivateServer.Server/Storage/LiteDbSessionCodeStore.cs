using LiteDB;
using PrivateServer.Server.AdHoc;

namespace PrivateServer.Server.Storage;

/// <summary>Session codes in <c>sessionCodes</c> (by random id, indexed by the code's hash).</summary>
internal sealed class LiteDbSessionCodeStore(ApplianceDatabase database) : ISessionCodeStore
{
    private ILiteCollection<CodeDocument> Codes => Open(database);

    public Task<bool> TryAddAsync(SessionCodeRecord code, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(code);
        // The same gate as the atomic changes that add and redeem codes: check and write are one step.
        return database.UnderWriteGateAsync(() => TryInsert(database, code, now), cancellationToken);
    }

    public Task<SessionCodeRecord?> FindAsync(string hash, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Newest(hash));
    }

    /// <summary>Adds a code unless a code with the same hash is live at <paramref name="now"/> (the caller holds the write gate).</summary>
    internal static bool TryInsert(ApplianceDatabase database, SessionCodeRecord code, DateTimeOffset now)
    {
        var codes = Open(database);
        if (codes.Find(c => c.Hash == code.Hash).Any(c => c.ToRecord().IsLive(now)))
        {
            return false;
        }

        codes.Insert(CodeDocument.From(code));
        return true;
    }

    /// <summary>Marks a code redeemed if it is live at the use's time (the caller holds the write gate); false when it is not (any more).</summary>
    internal static bool Redeem(ApplianceDatabase database, Audit.SessionCodeUse use)
    {
        var codes = Open(database);
        var code = codes.FindById(use.CodeId)?.ToRecord();
        if (code is null || !code.IsLive(use.At))
        {
            return false;
        }

        codes.Update(CodeDocument.From(code with { RedeemedAt = use.At, RedeemedFrom = use.Source }));
        return true;
    }

    private static ILiteCollection<CodeDocument> Open(ApplianceDatabase database)
    {
        var codes = database.Lite.GetCollection<CodeDocument>("sessionCodes");
        codes.EnsureIndex(c => c.Hash);
        return codes;
    }

    public Task RemoveOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var before = cutoff.UtcDateTime;
        Codes.DeleteMany(c => c.ExpiresAt < before);
        return Task.CompletedTask;
    }

    /// <summary>A hash can come back once its older code is dead: the live (newest) one counts.</summary>
    private SessionCodeRecord? Newest(string hash) =>
        Codes.Find(c => c.Hash == hash).Select(c => c.ToRecord()).OrderByDescending(c => c.CreatedAt).FirstOrDefault();

    internal sealed class CodeDocument
    {
        [BsonId]
        public string Id { get; set; } = string.Empty;

        public string Hash { get; set; } = string.Empty;

        public string Supporter { get; set; } = string.Empty;

        public DateTime CreatedAt { get; set; }

        public DateTime ExpiresAt { get; set; }

        public DateTime? RedeemedAt { get; set; }

        public string? RedeemedFrom { get; set; }

        public static CodeDocument From(SessionCodeRecord code) => new()
        {
            Id = code.Id,
            Hash = code.Hash,
            Supporter = code.Supporter,
            CreatedAt = code.CreatedAt.UtcDateTime,
            ExpiresAt = code.ExpiresAt.UtcDateTime,
            RedeemedAt = code.RedeemedAt?.UtcDateTime,
            RedeemedFrom = code.RedeemedFrom,
        };

        public SessionCodeRecord ToRecord() => new(
            Id, Hash, Supporter, StorageMapper.Utc(CreatedAt), StorageMapper.Utc(ExpiresAt), RedeemedAt is { } redeemed ? StorageMapper.Utc(redeemed) : null, RedeemedFrom);
    }
}
