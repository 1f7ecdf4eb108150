using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using PrivateServer.Protocol.Files;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Relay;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Recording;

/// <summary>
/// Server-side screen recordings (group policy "recording"): files under <c>DATA/recordings/YYYY-MM/</c>,
/// one per screen stream, named <c>….psrec.part</c> while written; when a stream ends its SHA-256 goes into the audit
/// trail (<c>recording.saved</c>) and the file loses the <c>.part</c>. A start saves what the last run left unsaved.
/// </summary>
public sealed partial class ScreenRecordings(DataFolder folder, AuditTrail audit, TimeProvider time, ILogger<ScreenRecordings> logger)
{
    /// <summary>
    /// Turns to read a recording back for its hash: that is disk and CPU work, and a burst of ended streams (an
    /// emergency stop) takes turns instead of pinning 2 MiB each and taking every core from the relays that go on.
    /// A bounded channel holding one token per turn: a semaphore that needs no disposing.
    /// </summary>
    private readonly Channel<bool> _hashTurns = HashTurns(Math.Max(1, Environment.ProcessorCount / 2));

    public string Root => System.IO.Path.Combine(folder.Root, "recordings");

    /// <summary>
    /// The full path of a recording named as the audit trail names it (<c>YYYY-MM/NAME.psrec</c>); null for
    /// anything else — other folders, traversal, other file types — or a file that is not there.
    /// </summary>
    public string? Find(string? relativePath)
    {
        if (relativePath is null || !RecordingName().IsMatch(relativePath))
        {
            return null;
        }

        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine(Root, relativePath.Replace('/', System.IO.Path.DirectorySeparatorChar)));
        return path.StartsWith(Root + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal) && File.Exists(path) ? path : null;
    }

    /// <summary>Starts recording a stream; null (and logged) when the file cannot be created — the session goes on unrecorded.</summary>
    public ScreenRecording? Start(RelayPair stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var now = time.GetUtcNow();
        var relative = now.ToString("yyyy-MM", CultureInfo.InvariantCulture) + "/" + stream.SessionId + "-" + stream.Id + ".psrec";
        var path = System.IO.Path.Combine(Root, relative.Replace('/', System.IO.Path.DirectorySeparatorChar));
        try
        {
            SecureFile.CreatePrivateDirectory(Root);
            SecureFile.CreatePrivateDirectory(System.IO.Path.GetDirectoryName(path)!);
            return new ScreenRecording(stream, path, relative, now, time, logger);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogCannotRecord(logger, stream.Id, stream.SessionId, ex);
            return null;
        }
    }

    /// <summary>
    /// Closes a recording, records its hash in the audit trail and gives it its name (without
    /// <see cref="ScreenRecording.PartialSuffix"/>): a file still named so at the next start is saved then.
    /// </summary>
    public async Task CompleteAsync(ScreenRecording recording, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recording);
        var (length, recorded) = await recording.CloseAsync(cancellationToken);
        var ended = time.GetUtcNow();
        var sha256 = Convert.ToHexStringLower(await HashAsync(recording.PartialPath, length, cancellationToken));
        await audit.RecordAsync(
            "system", "recording.saved", recording.RelativePath, recording.Stream.SessionId,
            details: AuditTrail.Details(
                ("stream", recording.Stream.Id), ("service", recording.Stream.Service), ("sha256", sha256),
                ("file-bytes", length.ToString(CultureInfo.InvariantCulture)), ("stream-bytes", recorded.ToString(CultureInfo.InvariantCulture)),
                ("started", AuditChain.Time(recording.StartedAt)), ("ended", AuditChain.Time(ended))),
            cancellationToken: CancellationToken.None);
        File.Move(recording.PartialPath, recording.Path);
        LogSaved(logger, recording.Stream.Id, recording.Stream.SessionId, recording.RelativePath, length);
    }

    /// <summary>
    /// Saves the recordings the last run left unsaved (it stopped or died while they were written, or before their
    /// hash was in the trail): each <see cref="ScreenRecording.PartialSuffix"/> file gets its <c>recording.saved</c>
    /// event — with the SHA-256 of what reached the disk (all but at most the last one or two
    /// <see cref="ScreenRecording.FlushInterval"/>s) and <c>interrupted</c> — unless <paramref name="trail"/> has one for
    /// it already, and then its name. One file's problem is logged and leaves the others. Returns how many were saved.
    /// </summary>
    public async Task<int> RecoverAsync(IAuditLog trail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(trail);
        if (!Directory.Exists(Root))
        {
            return 0;
        }

        var count = 0;
        foreach (var partial in Directory.EnumerateFiles(Root, "*.psrec" + ScreenRecording.PartialSuffix, SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList())
        {
            var path = partial[..^ScreenRecording.PartialSuffix.Length];
            var relative = Relative(path);
            try
            {
                if (!RecordingName().IsMatch(relative) || SessionAndStream(partial, relative) is not var (sessionId, stream))
                {
                    LogNotRecovered(logger, relative, "not the name or header of a recording");
                    continue;
                }

                var events = await trail.QueryAsync(null, null, sessionId, newestFirst: false, int.MaxValue, cancellationToken);
                if (!events.Any(e => e.Entry.Action == "recording.saved" && e.Entry.Target == relative))
                {
                    var length = new FileInfo(partial).Length;
                    var sha256 = await HashAsync(partial, length, cancellationToken);
                    await audit.RecordAsync(
                        "system", "recording.saved", relative, sessionId,
                        details: AuditTrail.Details(
                            ("stream", stream), ("sha256", Convert.ToHexStringLower(sha256)), ("file-bytes", length.ToString(CultureInfo.InvariantCulture)),
                            ("last-written", AuditChain.Time(new DateTimeOffset(File.GetLastWriteTimeUtc(partial), TimeSpan.Zero))),
                            ("interrupted", "the appliance stopped while the stream was recorded")),
                        cancellationToken: CancellationToken.None);
                    LogSavedInterrupted(logger, relative, sessionId, length);
                    count++;
                }

                File.Move(partial, path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogNotRecovered(logger, relative, ex.Message);
            }
        }

        return count;
    }

    /// <summary>A recording's path as the audit trail names it: below <see cref="Root"/>, with forward slashes.</summary>
    private string Relative(string path) => System.IO.Path.GetRelativePath(Root, path).Replace(System.IO.Path.DirectorySeparatorChar, '/');

    /// <summary>The SHA-256 of a closed recording, in turn with the others; it must be <paramref name="length"/> bytes long.</summary>
    private async Task<byte[]> HashAsync(string path, long length, CancellationToken cancellationToken)
    {
        await _hashTurns.Reader.ReadAsync(cancellationToken);
        try
        {
            var (sha256, hashed) = await RecordingFile.HashAsync(path, cancellationToken);
            return hashed == length ? sha256 : throw new IOException($"{path} holds {hashed} bytes, {length} were written");
        }
        finally
        {
            _hashTurns.Writer.TryWrite(true);
        }
    }

    private static Channel<bool> HashTurns(int turns)
    {
        var channel = Channel.CreateBounded<bool>(turns);
        for (var i = 0; i < turns; i++)
        {
            channel.Writer.TryWrite(true);
        }

        return channel;
    }

    /// <summary>The session and stream a recording belongs to: from its header line, or its name when nothing reached the disk.</summary>
    private static (string Session, string Stream)? SessionAndStream(string partial, string relative)
    {
        var buffer = new byte[4096];
        int read;
        using (var file = File.OpenRead(partial))
        {
            read = file.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }

        var lines = Encoding.UTF8.GetString(buffer, 0, read).Split('\n');
        if (lines.Length > 2 && lines[0] == "PSREC/1" && Header(lines[1]) is { } header
            && header.TryGetValue("session", out var session) && header.TryGetValue("stream", out var stream))
        {
            return (session, stream);
        }

        var name = System.IO.Path.GetFileNameWithoutExtension(relative);
        var split = name.IndexOf("-st-", StringComparison.Ordinal);
        return split > 0 ? (name[..split], name[(split + 1)..]) : null;

        static Dictionary<string, string>? Header(string line)
        {
            try
            {
                return JsonSerializer.Deserialize<Dictionary<string, string>>(line);
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// Deletes recordings last written before <paramref name="olderThan"/>; each deletion is an audit event
    /// with the SHA-256 of what was deleted. Returns how many were deleted.
    /// </summary>
    public async Task<int> DeleteOlderThanAsync(DateTimeOffset olderThan, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(Root))
        {
            return 0;
        }

        var deleted = 0;
        foreach (var path in Directory.EnumerateFiles(Root, "*.psrec", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList())
        {
            var written = new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero);
            if (written >= olderThan)
            {
                continue;
            }

            var sha256 = Convert.ToHexStringLower(await HashAsync(path, new FileInfo(path).Length, cancellationToken));
            var relative = Relative(path);
            File.Delete(path);
            deleted++;
            await audit.RecordAsync(
                "system", "recording.deleted", relative,
                details: AuditTrail.Details(("sha256", sha256), ("reason", "retention"), ("last-written", AuditChain.Time(written))),
                cancellationToken: CancellationToken.None);
            LogDeleted(logger, relative);
        }

        return deleted;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^[0-9]{4}-[0-9]{2}/[A-Za-z0-9_-]{1,100}\.psrec$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex RecordingName();

    [LoggerMessage(EventId = 5106, Level = LogLevel.Warning, Message = "Recording {Path} of session {SessionId} was cut off when the appliance stopped: saved as it reached the disk ({Length} bytes)")]
    private static partial void LogSavedInterrupted(ILogger logger, string path, string sessionId, long length);

    [LoggerMessage(EventId = 5105, Level = LogLevel.Error, Message = "Recording {Path}, left unsaved by the last run, could not be saved: {Problem}")]
    private static partial void LogNotRecovered(ILogger logger, string path, string problem);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Information, Message = "Recording {Path} deleted: older than the retention period")]
    private static partial void LogDeleted(ILogger logger, string path);

    [LoggerMessage(EventId = 5100, Level = LogLevel.Information, Message = "Stream {StreamId} of session {SessionId} recorded to {Path} ({Length} bytes)")]
    private static partial void LogSaved(ILogger logger, string streamId, string sessionId, string path, long length);

    [LoggerMessage(EventId = 5101, Level = LogLevel.Error, Message = "Stream {StreamId} of session {SessionId} cannot be recorded")]
    private static partial void LogCannotRecord(ILogger logger, string streamId, string sessionId, Exception exception);
}
