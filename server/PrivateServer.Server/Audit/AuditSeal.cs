using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Audit;

/// <summary>
/// Signs the trail's head with the audit key (periodically, at every export and when the server
/// stops) and checks the latest signed head against the trail: the hash chain alone cannot show
/// that events were cut off its end, a signed head can.
/// </summary>
public sealed partial class AuditSeal(DataFolder folder, IAuditLog log, TimeProvider time, ILogger<AuditSeal> logger)
{
    /// <summary>What is signed for a head: <c>privateserver-audit-head/1\n{sequence}\n{hash}\n{at}\n</c> (UTF-8, at as in exports).</summary>
    public static byte[] SignedText(long sequence, string hash, DateTimeOffset at) =>
        Encoding.UTF8.GetBytes($"privateserver-audit-head/1\n{sequence.ToString(CultureInfo.InvariantCulture)}\n{hash}\n{AuditChain.Time(at)}\n");

    /// <summary>Signs the current head unless it is signed already; returns the head in force (null for an empty trail).</summary>
    public async Task<SignedHead?> SealAsync(CancellationToken cancellationToken)
    {
        var last = await log.LastAsync(cancellationToken);
        if (last is null)
        {
            return null;
        }

        var latest = await log.LatestSignedHeadAsync(cancellationToken);
        if (latest is not null && latest.Sequence == last.Sequence && latest.Hash == last.Hash)
        {
            return latest;
        }

        var now = time.GetUtcNow();
        using var signer = AuditSigner.LoadOrIssue(folder, now);
        var head = new SignedHead(last.Sequence, last.Hash, now, signer.SignDetached(SignedText(last.Sequence, last.Hash, now), now));
        await log.AddSignedHeadAsync(head, cancellationToken);
        LogSealed(logger, head.Sequence);
        return head;
    }

    /// <summary>
    /// Checks an intact chain against the latest signed head: the head must be signed by this
    /// appliance's audit key, and the trail must still hold that event with that hash.
    /// </summary>
    public async Task<AuditVerification> CheckAsync(AuditVerification chain, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chain);
        var head = await log.LatestSignedHeadAsync(cancellationToken);
        if (!chain.Intact || head is null)
        {
            return chain;
        }

        using (var signer = AuditSigner.LoadOrIssue(folder, time.GetUtcNow()))
        {
            if (!signer.Verify(SignedText(head.Sequence, head.Hash, head.At), head.Signature))
            {
                return AuditVerification.Broken(chain.Verified, head.Sequence, $"the head signed at {AuditChain.Time(head.At)} does not carry a valid signature of this appliance's audit key");
            }
        }

        if (head.Sequence > chain.Verified)
        {
            return AuditVerification.Broken(
                chain.Verified, chain.Verified + 1,
                $"event {chain.Verified + 1} and later were removed: the head signed at {AuditChain.Time(head.At)} covers event {head.Sequence}");
        }

        var covered = await log.FindAsync(head.Sequence, cancellationToken);
        return covered?.Hash == head.Hash
            ? chain with { SignedHead = head.Sequence, SignedAt = head.At }
            : AuditVerification.Broken(chain.Verified, head.Sequence, $"event {head.Sequence} is not the one the head signed at {AuditChain.Time(head.At)} covers");
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Debug, Message = "Audit head signed at event {Sequence}")]
    private static partial void LogSealed(ILogger logger, long sequence);
}
