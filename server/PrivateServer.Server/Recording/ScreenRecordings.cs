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
            return new ScreenRecording(stream, path, relative, now);
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

    [LoggerMessage(EventId = 5100, Level = LogLevel.Information, Message = "Stream {StreamId} of session {SessionId} recorded to {Path} ({Length} bytes)")]
    private static partial void LogSaved(ILogger logger, string streamId, string sessionId, string path, long length);

    [LoggerMessage(EventId = 5101, Level = LogLevel.Error, Message = "Stream {StreamId} of session {SessionId} cannot be recorded")]
    private static partial void LogCannotRecord(ILogger logger, string streamId, string sessionId, Exception exception);
}
