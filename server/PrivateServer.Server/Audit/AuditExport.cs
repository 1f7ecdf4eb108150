using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PrivateServer.Server.Audit;

public enum AuditExportFormat
{
    Csv,
    Json,
}

/// <summary>Which events an export holds: a time range (from inclusive, to exclusive) and/or one session.</summary>
public sealed record AuditExportRequest(DateTimeOffset? From, DateTimeOffset? To, string? SessionId, string Format);

/// <summary>An export: the file, its detached CMS signature (DER) and the signing certificate chain (PEM).</summary>
public sealed record AuditExportResult(byte[] Content, byte[] Signature, string ChainPem, int Count, string FileExtension);

/// <summary>
/// Writes audit events as CSV or JSON with their chain hashes, so an auditor can recompute each
/// event's hash (<see cref="AuditChain"/>) from the JSON and check the signature of the whole file.
/// CSV: a header line, then one line per event — <c>sequence,at,actor,action,target,session,source,details,prev,hash</c>,
/// RFC 4180 quoting, details as the canonical JSON object, UTF-8 without BOM, CRLF line ends.
/// JSON: <c>{"format":"privateserver-audit/1","exportedAt":…,"from":…,"to":…,"session":…,"events":[{"sequence":…,"at":…,
/// "actor":…,"action":…,"target":…,"session":…,"source":…,"details":{…},"prev":…,"hash":…}]}</c>.
/// </summary>
public static class AuditExport
{
    public static readonly string[] Columns = ["sequence", "at", "actor", "action", "target", "session", "source", "details", "prev", "hash"];

    public static bool TryParseFormat(string? text, out AuditExportFormat format) =>
        Enum.TryParse(text, ignoreCase: true, out format) && Enum.IsDefined(format) && !int.TryParse(text, out _);

    public static byte[] Write(IReadOnlyList<AuditEvent> events, AuditExportFormat format, AuditExportRequest request, DateTimeOffset exportedAt)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(request);
        return format == AuditExportFormat.Csv ? Csv(events) : Json(events, request, exportedAt);
    }

    private static byte[] Csv(IReadOnlyList<AuditEvent> events)
    {
        var text = new StringBuilder();
        text.Append(string.Join(',', Columns)).Append("\r\n");
        foreach (var audit in events)
        {
            var entry = audit.Entry;
            string?[] fields =
            [
                audit.Sequence.ToString(CultureInfo.InvariantCulture), AuditChain.Time(entry.At), entry.Actor, entry.Action, entry.Target, entry.SessionId,
                entry.Source, DetailsJson(entry.Details), audit.PreviousHash, audit.Hash,
            ];
            text.Append(string.Join(',', fields.Select(Quote))).Append("\r\n");
        }

        return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text.ToString());
    }

    private static byte[] Json(IReadOnlyList<AuditEvent> events, AuditExportRequest request, DateTimeOffset exportedAt)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("format", "privateserver-audit/1");
            json.WriteString("exportedAt", AuditChain.Time(exportedAt));
            json.WriteString("from", request.From is { } from ? AuditChain.Time(from) : null);
            json.WriteString("to", request.To is { } to ? AuditChain.Time(to) : null);
            json.WriteString("session", request.SessionId);
            json.WriteStartArray("events");
            foreach (var audit in events)
            {
                json.WriteStartObject();
                json.WriteNumber("sequence", audit.Sequence);
                AuditChain.WriteEntry(json, audit.Entry);
                json.WriteString("prev", audit.PreviousHash);
                json.WriteString("hash", audit.Hash);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static string DetailsJson(IReadOnlyDictionary<string, string>? details)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            AuditChain.WriteDetails(json, details);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string Quote(string? field)
    {
        if (field is null)
        {
            return string.Empty;
        }

        return field.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;
    }
}
