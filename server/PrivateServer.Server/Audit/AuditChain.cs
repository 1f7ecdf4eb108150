using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace PrivateServer.Server.Audit;

/// <summary>
/// The hash chain of the audit trail. An event's hash is the SHA-256 (lower-case hex) of its
/// canonical form: UTF-8 JSON without whitespace, members in this order —
/// <c>{"at":"2026-11-23T09:00:00.0000000Z","actor":…,"action":…,"target":…,"session":…,"source":…,"details":{…},"prev":…}</c>
/// — absent values as <c>null</c>, details sorted by name (ordinal), time in UTC with 7 fraction
/// digits, strings escaped as JSON minimally requires (non-ASCII as is). <c>prev</c> is the hash of
/// the event before; the first event's is 64 zeros. The sequence number is the event's place, not
/// part of the hash: a removed or moved event shows as a broken link.
/// </summary>
public static class AuditChain
{
    public static readonly string Genesis = new('0', 64);

    private static readonly JsonWriterOptions Canonical = new()
    {
        Indented = false,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The canonical bytes of an entry chained after <paramref name="previousHash"/>.</summary>
    public static byte[] CanonicalForm(AuditEntry entry, string previousHash)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, Canonical))
        {
            json.WriteStartObject();
            WriteEntry(json, entry);
            json.WriteString("prev", previousHash);
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>An entry's members in canonical order (at, actor, action, target, session, source, details), as hashed and exported.</summary>
    internal static void WriteEntry(Utf8JsonWriter json, AuditEntry entry)
    {
        json.WriteString("at", Time(entry.At));
        json.WriteString("actor", entry.Actor);
        json.WriteString("action", entry.Action);
        json.WriteString("target", entry.Target);
        json.WriteString("session", entry.SessionId);
        json.WriteString("source", entry.Source);
        json.WritePropertyName("details");
        WriteDetails(json, entry.Details);
    }

    /// <summary>Details as a JSON object, sorted by name (ordinal).</summary>
    internal static void WriteDetails(Utf8JsonWriter json, IReadOnlyDictionary<string, string>? details)
    {
        json.WriteStartObject();
        foreach (var (name, value) in (details ?? new Dictionary<string, string>()).OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            json.WriteString(name, value);
        }

        json.WriteEndObject();
    }

    /// <summary>A time as the trail writes it: UTC, seven fraction digits, 'Z'.</summary>
    internal static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>The hash of an entry chained after <paramref name="previousHash"/>.</summary>
    public static string HashOf(AuditEntry entry, string previousHash) =>
        Convert.ToHexStringLower(SHA256.HashData(CanonicalForm(entry, previousHash)));

    /// <summary>Chains an entry after the event <paramref name="previous"/> (null: the first event).</summary>
    public static AuditEvent Append(AuditEvent? previous, AuditEntry entry)
    {
        var previousHash = previous?.Hash ?? Genesis;
        return new AuditEvent((previous?.Sequence ?? 0) + 1, entry, previousHash, HashOf(entry, previousHash));
    }

    /// <summary>Walks a whole trail in sequence order (<see cref="AuditChainWalker"/>).</summary>
    public static AuditVerification Verify(IEnumerable<AuditEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var walker = new AuditChainWalker();
        foreach (var current in events)
        {
            if (walker.Next(current) is { } broken)
            {
                return broken;
            }
        }

        return walker.Result;
    }
}

/// <summary>
/// Checks a trail one event at a time, in sequence order, and names the first broken link: an event
/// whose content no longer matches its hash (modified), a gap in the sequence (removed), or an event
/// that does not follow the one before it (reordered, or inserted).
/// </summary>
public sealed class AuditChainWalker
{
    private AuditEvent? _previous;
    private long _verified;

    /// <summary>Null while the chain holds; otherwise the first broken link.</summary>
    public AuditVerification? Next(AuditEvent current)
    {
        ArgumentNullException.ThrowIfNull(current);
        var expectedSequence = (_previous?.Sequence ?? 0) + 1;
        if (AuditChain.HashOf(current.Entry, current.PreviousHash) != current.Hash)
        {
            return AuditVerification.Broken(_verified, current.Sequence, $"event {current.Sequence} was modified: its content does not match its hash");
        }

        if (current.Sequence != expectedSequence)
        {
            return AuditVerification.Broken(
                _verified, expectedSequence,
                current.Sequence > expectedSequence
                    ? $"event {expectedSequence} was removed{(current.Sequence - expectedSequence > 1 ? $" (and up to event {current.Sequence - 1})" : string.Empty)}"
                    : $"event {current.Sequence} appears twice");
        }

        if (current.PreviousHash != (_previous?.Hash ?? AuditChain.Genesis))
        {
            return AuditVerification.Broken(_verified, current.Sequence, $"event {current.Sequence} does not follow event {expectedSequence - 1}: the trail was reordered");
        }

        _previous = current;
        _verified++;
        return null;
    }

    /// <summary>The chain as far as it held: how many events, and the hash of the last one (the head).</summary>
    public AuditVerification Result => new(true, _verified, null, null, _previous?.Hash ?? AuditChain.Genesis);
}

/// <summary>The outcome of <see cref="AuditChain.Verify"/>: how many events held, and the first broken one.</summary>
public sealed record AuditVerification(bool Intact, long Verified, long? BrokenAt, string? Problem, string? Head = null)
{
    /// <summary>The sequence number the latest signed head covers, when one was checked.</summary>
    public long? SignedHead { get; init; }

    public DateTimeOffset? SignedAt { get; init; }

    internal static AuditVerification Broken(long verified, long at, string problem) => new(false, verified, at, problem);
}
