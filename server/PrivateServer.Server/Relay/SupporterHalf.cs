using Microsoft.Extensions.Logging;
using PrivateServer.Protocol.Relay;

namespace PrivateServer.Server.Relay;

/// <summary>
/// The supporter's half of a relay stream, whatever carries it (a module's upgraded connection, a
/// browser's binary WebSocket): waits for the host's half, pumps both ways until either side or
/// the session ends, and logs the stream.
/// </summary>
public static partial class SupporterHalf
{
    public static async Task<RelayResult?> RunAsync(RelayPair stream, Stream half, ILogger logger, Recording.ScreenRecordings? recordings = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(half);
        ArgumentNullException.ThrowIfNull(logger);
        Stream hostHalf;
        try
        {
            hostHalf = await stream.HostHalf.WaitAsync(RelayRendezvous.PairingTimeout, stream.SessionEnded);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            LogStreamNotPaired(logger, stream.Id, stream.SessionId, stream.FailureReason ?? "the host did not open its half in time");
            stream.Fail("not paired");
            return null;
        }

        LogStreamOpened(logger, stream.Id, stream.SessionId, stream.Service);
        var recording = stream.Record ? recordings?.Start(stream) : null;
        RelayResult result;
        if (recording is null)
        {
            result = await RelayPump.RunAsync(half, hostHalf, stream.SessionEnded);
        }
        else
        {
            await using (recording)
            {
                var (supporter, host) = recording.Tap(half, hostHalf);
                result = await RelayPump.RunAsync(supporter, host, stream.SessionEnded);
                // The host's half is let go now; completing the file and hashing it need neither half.
                stream.Finish();
                try
                {
                    await recordings!.CompleteAsync(recording, CancellationToken.None);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    LogRecordingNotSaved(logger, stream.Id, stream.SessionId, ex);
                }
            }
        }

        stream.Finish();
        LogStreamClosed(logger, stream.Id, stream.SessionId, result.EndedBy, result.BytesAToB, result.BytesBToA);
        return result;
    }

    [LoggerMessage(EventId = 3200, Level = LogLevel.Debug, Message = "Stream {StreamId} of session {SessionId} opened to service {Service}")]
    private static partial void LogStreamOpened(ILogger logger, string streamId, string sessionId, string service);

    [LoggerMessage(EventId = 3201, Level = LogLevel.Debug, Message = "Stream {StreamId} of session {SessionId} closed by {EndedBy}: {BytesUp} bytes to the host, {BytesDown} to the supporter")]
    private static partial void LogStreamClosed(ILogger logger, string streamId, string sessionId, RelayEnd endedBy, long bytesUp, long bytesDown);

    [LoggerMessage(EventId = 3207, Level = LogLevel.Error, Message = "The recording of stream {StreamId} of session {SessionId} could not be saved; the next start saves what is on disk")]
    private static partial void LogRecordingNotSaved(ILogger logger, string streamId, string sessionId, Exception exception);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Information, Message = "Stream {StreamId} of session {SessionId} not opened: {Reason}")]
    private static partial void LogStreamNotPaired(ILogger logger, string streamId, string sessionId, string reason);
}
