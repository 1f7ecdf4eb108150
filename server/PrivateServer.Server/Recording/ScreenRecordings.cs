using System.Globalization;
using Microsoft.Extensions.Logging;
using PrivateServer.Protocol.Files;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Relay;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Recording;

/// <summary>
/// Server-side screen recordings (group policy "recording"): files under <c>DATA/recordings/YYYY-MM/</c>,
/// one per screen stream; when a stream ends its SHA-256 goes into the audit trail (<c>recording.saved</c>).
/// </summary>
public sealed partial class ScreenRecordings(DataFolder folder, AuditTrail audit, TimeProvider time, ILogger<ScreenRecordings> logger)
{
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
            return new ScreenRecording(stream, path, relative, now, time);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogCannotRecord(logger, stream.Id, stream.SessionId, ex);
            return null;
        }
    }

    /// <summary>Closes a recording and records its hash in the audit trail.</summary>
    public async Task CompleteAsync(ScreenRecording recording, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recording);
        var (sha256, length, recorded) = await recording.CompleteAsync(cancellationToken);
        var ended = time.GetUtcNow();
        await audit.RecordAsync(
            "system", "recording.saved", recording.RelativePath, recording.Stream.SessionId,
            details: AuditTrail.Details(
                ("stream", recording.Stream.Id), ("service", recording.Stream.Service), ("sha256", sha256),
                ("file-bytes", length.ToString(CultureInfo.InvariantCulture)), ("stream-bytes", recorded.ToString(CultureInfo.InvariantCulture)),
                ("started", AuditChain.Time(recording.StartedAt)), ("ended", AuditChain.Time(ended))),
            cancellationToken: CancellationToken.None);
        LogSaved(logger, recording.Stream.Id, recording.Stream.SessionId, recording.RelativePath, length);
    }

    /// <summary>
    /// Saves the recordings of a session the appliance stopped while it ran (called at the next start, before the
    /// session is ended): every file of the session that has no <c>recording.saved</c> event among
    /// <paramref name="saved"/> (paths as the trail names them) gets one, with the SHA-256 of what reached the disk —
    /// all but at most the last <see cref="ScreenRecording.FlushInterval"/> — and why it ends there. Returns how many.
    /// </summary>
    public async Task<int> SaveInterruptedAsync(string sessionId, IReadOnlySet<string> saved, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        ArgumentNullException.ThrowIfNull(saved);
        if (!Directory.Exists(Root) || sessionId.AsSpan().ContainsAny("*?/\\"))
        {
            return 0;
        }

        var count = 0;
        foreach (var path in Directory.EnumerateFiles(Root, sessionId + "-st-*.psrec", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList())
        {
            var relative = System.IO.Path.GetRelativePath(Root, path).Replace(System.IO.Path.DirectorySeparatorChar, '/');
            if (saved.Contains(relative) || !RecordingName().IsMatch(relative))
            {
                continue;
            }

            var sha256 = Convert.ToHexStringLower(await RecordingFile.HashAsync(path, cancellationToken));
            var file = new FileInfo(path);
            var stream = System.IO.Path.GetFileNameWithoutExtension(path)[(sessionId.Length + 1)..];
            await audit.RecordAsync(
                "system", "recording.saved", relative, sessionId,
                details: AuditTrail.Details(
                    ("stream", stream), ("sha256", sha256), ("file-bytes", file.Length.ToString(CultureInfo.InvariantCulture)),
                    ("last-written", AuditChain.Time(new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero))), ("interrupted", reason)),
                cancellationToken: CancellationToken.None);
            LogSavedInterrupted(logger, relative, sessionId, file.Length);
            count++;
        }

        return count;
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

            string sha256;
            await using (var read = File.OpenRead(path))
            {
                sha256 = Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(read, cancellationToken));
            }

            var relative = System.IO.Path.GetRelativePath(Root, path).Replace(System.IO.Path.DirectorySeparatorChar, '/');
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

    [LoggerMessage(EventId = 5103, Level = LogLevel.Warning, Message = "Recording {Path} of session {SessionId} was cut off when the appliance stopped: saved as it reached the disk ({Length} bytes)")]
    private static partial void LogSavedInterrupted(ILogger logger, string path, string sessionId, long length);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Information, Message = "Recording {Path} deleted: older than the retention period")]
    private static partial void LogDeleted(ILogger logger, string path);

    [LoggerMessage(EventId = 5100, Level = LogLevel.Information, Message = "Stream {StreamId} of session {SessionId} recorded to {Path} ({Length} bytes)")]
    private static partial void LogSaved(ILogger logger, string streamId, string sessionId, string path, long length);

    [LoggerMessage(EventId = 5101, Level = LogLevel.Error, Message = "Stream {StreamId} of session {SessionId} cannot be recorded")]
    private static partial void LogCannotRecord(ILogger logger, string streamId, string sessionId, Exception exception);
}
