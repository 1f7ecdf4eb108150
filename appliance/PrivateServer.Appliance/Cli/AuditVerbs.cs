using System.CommandLine;
using System.Globalization;
using PrivateServer.Server.Audit;

namespace PrivateServer.Appliance.Cli;

/// <summary><c>privateserver audit verify|export</c>: whether the audit trail is as it was written, and signed exports of it.</summary>
internal static class AuditVerbs
{
    public static Command Create(CliContext context) => new("audit", "The hash-chained audit trail.")
    {
        Verify(context),
        Export(context),
    };

    private static Command Verify(CliContext context)
    {
        var command = new Command(
            "verify",
            "Walks the audit trail's hash chain. Exits 0 and prints the chain head's hash when it holds; otherwise exits 1 naming the first modified, removed or reordered event.");
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var result = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse), (administration, token) => administration.VerifyAuditAsync(token), cancellationToken);
            if (!result.Intact)
            {
                throw new CommandFailedException($"the audit trail is broken at event {result.BrokenAt}: {result.Problem} ({result.Verified} events before it hold)");
            }

            context.Error.WriteLine($"The audit trail holds: {result.Verified} events, chained from the first to the last"
                + (result.SignedHead is { } signed ? $"; the head signed at {result.SignedAt:u} (event {signed}) is there." : "; no head has been signed yet."));
            context.Out.WriteLine(result.Head);
            return 0;
        });
        return command;
    }

    private static Command Export(CliContext context)
    {
        var from = new Option<string?>("--from") { Description = "Events from this time on (ISO 8601, UTC unless an offset is given).", HelpName = "T" };
        var to = new Option<string?>("--to") { Description = "Events before this time.", HelpName = "T" };
        var session = new Option<string?>("--session") { Description = "Only the events of this session.", HelpName = "ID" };
        var format = new Option<string>("--format") { Description = "csv or json.", HelpName = "csv|json", Required = true };
        var output = new Option<string>("--out") { Description = "Where to write the export; FILE.sig (CMS, DER) and FILE.chain.pem are written beside it.", HelpName = "FILE", Required = true };
        var command = new Command(
            "export",
            "Exports audit events with their chain hashes and a detached signature of the audit key; check it with "
            + "'openssl cms -verify -binary -inform DER -in FILE.sig -content FILE -CAfile ca.crt -purpose any'.")
        {
            from, to, session, format, output,
        };
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var request = new AuditExportRequest(
                Time(parse.GetValue(from), "--from"), Time(parse.GetValue(to), "--to"), parse.GetValue(session), parse.GetValue(format)!);
            var path = Path.GetFullPath(parse.GetValue(output)!);
            var export = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse), async (administration, token) => AdminAccess.Unwrap(await administration.ExportAuditAsync(request, token)), cancellationToken);
            try
            {
                await File.WriteAllBytesAsync(path, export.Content, cancellationToken);
                await File.WriteAllBytesAsync(path + ".sig", export.Signature, cancellationToken);
                await File.WriteAllTextAsync(path + ".chain.pem", export.ChainPem, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CommandFailedException($"cannot write {path}: {ex.Message}", ex);
            }

            context.Error.WriteLine($"Wrote {export.Count} audit events to {path}, its signature to {path}.sig and the signing certificates to {path}.chain.pem.");
            return 0;
        });
        return command;
    }

    private static DateTimeOffset? Time(string? text, string option) =>
        text is null ? null
        : DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) ? at
        : throw new CommandFailedException($"{option}: '{text}' is not a time; use e.g. 2026-11-23 or 2026-11-23T14:30Z");
}
