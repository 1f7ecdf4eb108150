using System.Buffers;
using System.Buffers.Binary;

namespace PrivateServer.Protocol.Relay;

/// <summary>
/// One stream's bytes on a relay connection that outlives the stream, so that the next stream needs no TCP and TLS
/// handshake. The bytes go in frames: a 4-byte big-endian length, then that many bytes (1 to
/// <see cref="MaximumPayload"/>); a frame of length 0 ends the sender's direction. A side that receives the end sends
/// its own (at once, or when its local end is done); once each side has sent and received the end, the connection is
/// back where it was before its claim and may be claimed again (<see cref="IsReusable"/>).
/// </summary>
/// <remarks>
/// A frame with its header is at most one TLS record (16 KiB), so that a relay that reads a frame and writes it on
/// forwards record for record. The header is read on its own and the payload only up to the frame's end: nothing
/// after the end frame is ever read here (on a server, the connection's next claim line may follow it at once).
/// Reads and writes may run at the same time (one of each); this stream is not for two readers or two writers.
/// </remarks>
public sealed class FramedRelayStream : Stream
{
    /// <summary>The length in front of every frame.</summary>
    public const int HeaderLength = 4;

    /// <summary>The most one frame carries: with its header, one TLS record.</summary>
    public const int MaximumPayload = (16 * 1024) - HeaderLength;

    /// <summary>How long a stream given back waits for the other side's end before the connection is closed instead.</summary>
    public static readonly TimeSpan EndTimeout = TimeSpan.FromSeconds(5);

    private readonly Stream _inner;
    private readonly Func<Stream, ValueTask>? _reuse;
    private readonly byte[] _header = new byte[HeaderLength];
    private readonly byte[] _end = new byte[HeaderLength];
    private int _remaining;
    private volatile bool _endReceived;
    private volatile bool _endSent;
    private volatile bool _broken;
    private bool _disposed;

    /// <summary>
    /// Frames the bytes of one stream on <paramref name="connection"/>. On dispose, a connection that is still good is
    /// handed to <paramref name="reuse"/>; without one (or when it is not good), it is disposed.
    /// </summary>
    public FramedRelayStream(Stream connection, Func<Stream, ValueTask>? reuse = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _inner = connection;
        _reuse = reuse;
    }

    /// <summary>The connection under the frames.</summary>
    public Stream Connection => _inner;

    /// <summary>The other side's end frame arrived: reads return 0 from now on.</summary>
    public bool EndReceived => _endReceived;

    /// <summary>This side's end frame went out: nothing more may be written.</summary>
    public bool EndSent => _endSent;

    /// <summary>A read or write failed or was cancelled in the middle, or the other side broke the framing: the connection is good for nothing more.</summary>
    public bool IsBroken => _broken;

    /// <summary>Both ends passed and nothing broke: the connection may carry another stream.</summary>
    public bool IsReusable => _endSent && _endReceived && !_broken && _remaining == 0;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>The stream's next bytes, within the current frame; 0 once the other side's end arrived (or the connection closed between frames).</summary>
    /// <exception cref="RelayFramingException">The other side sent a frame longer than <see cref="MaximumPayload"/>.</exception>
    /// <exception cref="EndOfStreamException">The connection closed in the middle of a frame.</exception>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_endReceived || _broken || buffer.IsEmpty)
        {
            return 0;
        }

        try
        {
            if (_remaining == 0)
            {
                var length = await ReadHeaderAsync(cancellationToken);
                if (length is null)
                {
                    // Closed without an end frame: the stream is over, the connection too.
                    _broken = true;
                    return 0;
                }

                if (length == 0)
                {
                    _endReceived = true;
                    return 0;
                }

                if (length is < 0 or > MaximumPayload)
                {
                    throw new RelayFramingException($"a relay frame announced {length} bytes; a frame carries 1 to {MaximumPayload}");
                }

                _remaining = length.Value;
            }

            var read = await _inner.ReadAsync(buffer[..Math.Min(buffer.Length, _remaining)], cancellationToken);
            if (read == 0)
            {
                throw new EndOfStreamException("the relay connection closed in the middle of a frame");
            }

            _remaining -= read;
            return read;
        }
        catch
        {
            _broken = true;
            throw;
        }
    }

    /// <summary>The next frame's length; null when the connection closed cleanly before it.</summary>
    private async ValueTask<int?> ReadHeaderAsync(CancellationToken cancellationToken)
    {
        var got = await _inner.ReadAtLeastAsync(_header, HeaderLength, throwOnEndOfStream: false, cancellationToken);
        return got == 0 ? null
            : got < HeaderLength ? throw new EndOfStreamException("the relay connection closed in the middle of a frame header")
            : BinaryPrimitives.ReadInt32BigEndian(_header);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>
    /// Sends one frame whose payload (1 to <see cref="MaximumPayload"/> bytes) is already in place after
    /// <see cref="HeaderLength"/> bytes of room: the header is written into that room and the frame goes out in one
    /// write (one TLS record). The relay's copy loops read straight into that place.
    /// </summary>
    public async ValueTask WriteFrameAsync(Memory<byte> frame, CancellationToken cancellationToken)
    {
        var length = frame.Length - HeaderLength;
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1, nameof(frame));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, MaximumPayload, nameof(frame));
        RequireWritable();
        BinaryPrimitives.WriteInt32BigEndian(frame.Span, length);
        try
        {
            await _inner.WriteAsync(frame, cancellationToken);
            await _inner.FlushAsync(cancellationToken);
        }
        catch
        {
            _broken = true;
            throw;
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        RequireWritable();
        if (buffer.IsEmpty)
        {
            return;
        }

        var frame = ArrayPool<byte>.Shared.Rent(HeaderLength + Math.Min(buffer.Length, MaximumPayload));
        try
        {
            while (!buffer.IsEmpty)
            {
                var length = Math.Min(buffer.Length, MaximumPayload);
                buffer.Span[..length].CopyTo(frame.AsSpan(HeaderLength));
                await WriteFrameAsync(frame.AsMemory(0, HeaderLength + length), cancellationToken);
                buffer = buffer[length..];
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Sends this side's end (once; nothing when the connection is broken). Nothing may be written after it.</summary>
    public async ValueTask EndAsync(CancellationToken cancellationToken)
    {
        if (_endSent || _broken)
        {
            return;
        }

        _endSent = true;
        try
        {
            await _inner.WriteAsync(_end, cancellationToken);
            await _inner.FlushAsync(cancellationToken);
        }
        catch
        {
            _broken = true;
            throw;
        }
    }

    /// <summary>
    /// Ends this side's direction and reads (and drops) what the other side still sends until its end, for at most
    /// <see cref="EndTimeout"/>: true when the connection is then reusable.
    /// </summary>
    public async Task<bool> FinishAsync(CancellationToken cancellationToken)
    {
        if (_broken)
        {
            return false;
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(EndTimeout);
        var drop = ArrayPool<byte>.Shared.Rent(MaximumPayload);
        try
        {
            await EndAsync(limit.Token);
            while (await ReadAsync(drop, limit.Token) > 0)
            {
                // The other side's last bytes: nobody reads them any more.
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or NotSupportedException)
        {
            _broken = true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(drop);
        }

        return IsReusable;
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override void Flush()
    {
        // Every frame is flushed when written.
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("a relay stream is read asynchronously");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("a relay stream is written asynchronously");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Ends the stream (see <see cref="FinishAsync"/>) and gives a still good connection back for the next stream, or closes it.</summary>
    public override async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            await base.DisposeAsync();
            return;
        }

        _disposed = true;
        if (_reuse is not null && await FinishAsync(CancellationToken.None))
        {
            await _reuse(_inner);
        }
        else
        {
            await _inner.DisposeAsync();
        }

        // Only marks this stream disposed: the connection was given back or closed above.
        await base.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _broken = true;
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private void RequireWritable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_endSent)
        {
            throw new InvalidOperationException("this side of the relay stream has ended: nothing more may be written");
        }
    }
}

/// <summary>A relay connection's frames broke the framing (a length out of range).</summary>
public sealed class RelayFramingException(string message) : IOException(message);
