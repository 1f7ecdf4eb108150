using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;

namespace PrivateServer.Protocol.Control;

/// <summary>
/// A control channel over a WebSocket: one JSON text message per frame sequence, at most
/// <see cref="MaximumMessageBytes"/>. Anything else — binary, oversized, not JSON, an unknown
/// type, another protocol version — is a <see cref="ControlProtocolException"/>; the caller closes
/// the channel. Sends are serialised (a WebSocket allows one sender at a time).
/// </summary>
public sealed class ControlChannel : IDisposable
{
    public const int MaximumMessageBytes = 64 * 1024;

    private readonly WebSocket _socket;
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    public ControlChannel(WebSocket socket)
    {
        _socket = socket;
    }

    public WebSocketState State => _socket.State;

    public async Task SendAsync(ControlMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(message, ProtocolJson.Default.ControlMessage);
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Sends if the channel is still there; false when it is already gone (closed, aborted, disposed, cancelled).</summary>
    public async Task<bool> TrySendAsync(ControlMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await SendAsync(message, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The next message, or null when the peer closed the channel.</summary>
    public async Task<ControlMessage?> ReceiveAsync(CancellationToken cancellationToken)
    {
        // Wait without a buffer: an idle channel (thousands of online hosts) holds no message
        // memory; a buffer is rented only while a message is being read.
        var waiting = await _socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken);
        if (waiting.MessageType == WebSocketMessageType.Close)
        {
            return null;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(MaximumMessageBytes);
        try
        {
            var length = 0;
            while (true)
            {
                if (length == MaximumMessageBytes)
                {
                    throw new ControlProtocolException(WebSocketCloseStatus.MessageTooBig, $"a control message exceeds {MaximumMessageBytes} bytes");
                }

                var result = await _socket.ReceiveAsync(buffer.AsMemory(length, MaximumMessageBytes - length), cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return null;
                }

                if (result.MessageType != WebSocketMessageType.Text)
                {
                    throw new ControlProtocolException(WebSocketCloseStatus.InvalidMessageType, "control messages are JSON text");
                }

                length += result.Count;
                if (result.EndOfMessage)
                {
                    break;
                }
            }

            return Parse(buffer.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Parses one message; public so that the parser can be tested (and fuzzed) on its own.</summary>
    public static ControlMessage Parse(ReadOnlySpan<byte> utf8)
    {
        ControlMessage? message;
        try
        {
            message = JsonSerializer.Deserialize(utf8, ProtocolJson.Default.ControlMessage);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            throw new ControlProtocolException(WebSocketCloseStatus.InvalidPayloadData, "a control message is not valid: " + FirstLine(ex.Message));
        }

        if (message is null)
        {
            throw new ControlProtocolException(WebSocketCloseStatus.InvalidPayloadData, "a control message is empty");
        }

        if (message.Version != ProtocolInfo.Version)
        {
            throw new ControlProtocolException(
                WebSocketCloseStatus.PolicyViolation,
                $"protocol version {message.Version} is not supported (this side speaks {ProtocolInfo.Version}); update the module");
        }

        return message;
    }

    /// <summary>Closes with a status and reason (best effort, bounded by the token).</summary>
    /// <param name="status">The close status.</param>
    /// <param name="reason">Why, for the peer's log.</param>
    /// <param name="cancellationToken">Bounds the whole close.</param>
    /// <param name="awaitPeer">Also read until the peer's close frame — only when nobody else is receiving on this channel.</param>
    public async Task CloseAsync(WebSocketCloseStatus status, string reason, CancellationToken cancellationToken, bool awaitPeer = false)
    {
        if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        // A close reason is at most 123 bytes of UTF-8.
        var text = reason.Length > 100 ? reason[..100] : reason;
        try
        {
            await _socket.CloseOutputAsync(status, text, cancellationToken);
            // Complete the close handshake: read until the peer's close frame, so that closing the
            // connection right after never resets it before the peer has read our reason.
            var discard = awaitPeer ? new byte[1024] : [];
            while (awaitPeer && _socket.State == WebSocketState.CloseSent)
            {
                await _socket.ReceiveAsync(discard.AsMemory(), cancellationToken);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            _socket.Abort();
        }
    }

    public void Abort() => _socket.Abort();

    public void Dispose()
    {
        _socket.Dispose();
        _sendLock.Dispose();
    }

    private static string FirstLine(string text)
    {
        var end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end];
    }
}

/// <summary>A peer broke the control protocol; <see cref="Status"/> is the WebSocket close status to answer with.</summary>
public sealed class ControlProtocolException(WebSocketCloseStatus status, string message) : Exception(message)
{
    public WebSocketCloseStatus Status { get; } = status;
}
