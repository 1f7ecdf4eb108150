using System.Net.WebSockets;

namespace PrivateServer.Server.Web.Console;

/// <summary>
/// The browser's side of a relay stream, whose reads outlive the pump's cancellation. Cancelling a WebSocket receive
/// aborts the socket (over HTTP/2 an RST_STREAM), and the browser may then drop data it has received but not yet handed
/// to the page — a system-information report written just before the host closed its half. So when the pump cancels the
/// read, the server sends a close frame instead, and the read ends when the browser answers it (or after 3 s).
/// </summary>
internal sealed class GracefulWebSocketStream(WebSocket socket, Stream inner) : Stream
{
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(3);

    private readonly CancellationTokenSource _abort = new();
    private int _closing;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var registration = cancellationToken.Register(static state => ((GracefulWebSocketStream)state!).BeginClose(), this);
        if (cancellationToken.IsCancellationRequested)
        {
            BeginClose();
        }

        try
        {
            return await inner.ReadAsync(buffer, _abort.Token);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _abort.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Once: a close frame to the browser, and a hard stop if it does not answer within the grace.</summary>
    private void BeginClose()
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        _ = CloseOutputAsync();
        try
        {
            _abort.CancelAfter(CloseGrace);
        }
        catch (ObjectDisposedException)
        {
            // Already done.
        }
    }

    private async Task CloseOutputAsync()
    {
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "stream closed", _abort.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The browser is gone already; the read ends on its own.
        }
    }
}
