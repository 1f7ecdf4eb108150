using System.Security.Cryptography;
using PrivateServer.Server.Admin;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Audit;

/// <summary>
/// Audit exports: the events of a time range or one session as CSV or JSON, signed with the audit key
/// (<see cref="AuditSigner"/>); the head is signed with it too, and the export itself becomes an event.
/// </summary>
public sealed class AuditExporter(DataFolder folder, IAuditLog log, AuditSeal seal, AuditTrail trail, TimeProvider time)
{
    public async Task<AdminOutcome<AuditExportResult>> ExportAsync(AuditExportRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!AuditExport.TryParseFormat(request.Format, out var format))
        {
            return AdminOutcome.Fail<AuditExportResult>(AdminFailureKind.Invalid, $"unknown export format '{request.Format}'; use csv or json");
        }

        if (request.From is { } from && request.To is { } to && to <= from)
        {
            return AdminOutcome.Fail<AuditExportResult>(AdminFailureKind.Invalid, "the end of the time range must be after its start");
        }

        var events = await log.QueryAsync(request.From, request.To, request.SessionId, newestFirst: false, int.MaxValue, cancellationToken);

        if (request.SessionId is not null && events.Count == 0)
        {
            return AdminOutcome.Fail<AuditExportResult>(AdminFailureKind.NotFound, $"no audit events for session '{request.SessionId}'");
        }

        var now = time.GetUtcNow();
        var content = AuditExport.Write(events, format, request, now);
        byte[] signature;
        string chain;
        using (var signer = AuditSigner.LoadOrIssue(folder, now))
        {
            signature = signer.SignDetached(content, now);
            chain = signer.ChainPem;
        }

        await seal.SealAsync(cancellationToken);
        await trail.RecordChangeAsync(
            "audit.exported", request.SessionId ?? "events",
            AuditTrail.Details(
                ("format", format.ToString().ToLowerInvariant()), ("from", request.From is { } f ? AuditChain.Time(f) : null),
                ("to", request.To is { } t ? AuditChain.Time(t) : null), ("events", events.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                ("sha256", Convert.ToHexStringLower(SHA256.HashData(content)))),
            CancellationToken.None);
        return AdminOutcome.Success(new AuditExportResult(content, signature, chain, events.Count, format == AuditExportFormat.Csv ? "csv" : "json"));
    }
}
