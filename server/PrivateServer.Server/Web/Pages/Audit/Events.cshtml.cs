using System.IO.Compression;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using PrivateServer.Server.Audit;

namespace PrivateServer.Server.Web.Pages.Audit;

/// <summary>
/// The audit trail for auditors: the newest events (filtered by day range and session), a check of
/// the hash chain and its signed head, and signed exports downloaded as one ZIP (the file, its
/// detached signature, the signing certificates).
/// </summary>
public sealed class AuditEventsModel(IAuditLog log, AuditTrail trail, AuditSeal seal, AuditExporter exporter, TimeProvider time) : AuditRangePage
{
    public const int Limit = 500;

    [BindProperty(SupportsGet = true)]
    public string? Session { get; set; }

    public IReadOnlyList<AuditEvent> Events { get; private set; } = [];

    /// <summary>The outcome of a chain check, when one was asked for.</summary>
    public AuditVerification? Verification { get; private set; }

    /// <summary>Why an export was refused.</summary>
    public string? Refusal { get; private set; }

    public Task OnGetAsync(CancellationToken cancellationToken) => LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostVerifyAsync(CancellationToken cancellationToken)
    {
        Verification = await seal.CheckAsync(await trail.VerifyAsync(cancellationToken), cancellationToken);
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostExportAsync(string? format, CancellationToken cancellationToken)
    {
        var (from, to) = Range();
        var outcome = await exporter.ExportAsync(new AuditExportRequest(from, to, Blank(Session), format ?? "json"), cancellationToken);
        if (outcome.Value is not { } export)
        {
            Refusal = outcome.Failure!.Message;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            await LoadAsync(cancellationToken);
            return Page();
        }

        var name = "privateserver-audit-" + time.GetUtcNow().ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture) + "." + export.FileExtension;
        using var zip = new MemoryStream();
        using (var archive = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true))
        {
            await AddAsync(archive, name, export.Content, cancellationToken);
            await AddAsync(archive, name + ".sig", export.Signature, cancellationToken);
            await AddAsync(archive, name + ".chain.pem", System.Text.Encoding.ASCII.GetBytes(export.ChainPem), cancellationToken);
        }

        return File(zip.ToArray(), "application/zip", Path.ChangeExtension(name, ".zip"));
    }

    private static async Task AddAsync(ZipArchive archive, string name, byte[] content, CancellationToken cancellationToken)
    {
        await using var entry = await archive.CreateEntry(name, CompressionLevel.Optimal).OpenAsync(cancellationToken);
        await entry.WriteAsync(content, cancellationToken);
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var (from, to) = Range();
        Events = await log.QueryAsync(from, to, Blank(Session), newestFirst: true, Limit, cancellationToken);
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
