using LiteDB;
using PrivateServer.Server.AdHoc;

namespace PrivateServer.Server.Storage;

/// <summary>Session codes in <c>sessionCodes</c> (by random id, indexed by the code's hash).</summary>
internal sealed class LiteDbSessionCodeStore(ApplianceDatabase database) : ISessionCodeStore, IDisposable
{
    // Check-then-write steps (unique live hash, redeem once) run one at a time.
    private readonly SemaphoreSlim _write = new(1, 1);

    private ILiteCollection<CodeDocument> Codes
    {
        get
        {
            var codes = database.Lite.GetCollection<CodeDocument>("sessionCodes");
            codes.EnsureIndex(c => c.Hash);
            return codes;
        }
    }

    public async Task<bool> TryAddAsync(SessionCodeRecord code, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(code);
        await _write.WaitAsync(cancellationToken);
        try
        {
            var codes = Codes;
            if (codes.Find(c => c.Hash == code.Hash).Any(c => c.ToRecord().IsLive(now)))
            {
                return false;
            }

            codes.Insert(CodeDocument.From(code));
            return true;
        }
        finally
        {
            _write.Release();
        }
    }

    public Task<SessionCodeRecord?> FindAsync(string hash, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Newest(hash));
    }

    public async Task<CodeRedemption> RedeemAsync(string hash, DateTimeOffset now, string source, CancellationToken cancellationToken)
    {
        await _write.WaitAsync(cancellationToken);
        try
        {
            var code = Newest(hash);
            if (code is null)
            {
                return new CodeRedemption(CodeRedemptionStatus.Unknown, null);
            }

            if (code.RedeemedAt is not null)
            {
                return new CodeRedemption(CodeRedemptionStatus.Used, code);
            }

            if (code.ExpiresAt <= now)
            {
                return new CodeRedemption(CodeRedemptionStatus.Expired, code);
            }

            var redeemed = code with { RedeemedAt = now, RedeemedFrom = source };
            Codes.Update(CodeDocument.From(redeemed));
            return new CodeRedemption(CodeRedemptionStatus.Redeemed, redeemed);
        }
        finally
        {
            _write.Release();
        }
    }

    public Task RemoveOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var before = cutoff.UtcDateTime;
        Codes.DeleteMany(c => c.ExpiresAt < before);
        return Task.CompletedTask;
    }

    public void Dispose() => _write.Dispose();

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
