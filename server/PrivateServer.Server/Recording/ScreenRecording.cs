using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Relay;

namespace PrivateServer.Server.Recording;

/// <summary>
/// One recorded screen stream: the RFB bytes both ways with their times, as the relay pumps them.
/// File format (<c>.psrec</c>): the line <c>PSREC/1</c>, one line of JSON
/// (<c>{"session":…,"stream":…,"service":…,"startedAt":…}</c>), then frames — 1 byte direction
/// (<c>S</c> host→supporter, i.e. what the VNC server sent; <c>C</c> supporter→host), 8 bytes
/// microseconds since the start, 4 bytes length (both big-endian), the bytes. Frames are collected
/// and written in 1 MiB blocks past the page cache (<see cref="RecordingFile"/>); both pump directions
/// append under one lock; what has been recorded is on disk within <see cref="FlushInterval"/> when a block fills
/// slowly (a quiet screen), within two when blocks go out anyway (a busy one). The file is hashed when it is
/// complete, not while the relay runs.
/// </summary>
public sealed partial class ScreenRecording : IAsyncDisposable
{
    public const byte ServerToClient = (byte)'S';
    public const byte ClientToServer = (byte)'C';
    private const int FrameHeaderLength = 13;

    /// <summary>The end of a recording's file name while it is written; it loses it once saved (hashed into the trail).</summary>
    public const string PartialSuffix = ".part";

    /// <summary>Reads of one direction within this time of a frame's start join that frame.</summary>
    private const long CoalesceMicroseconds = 1000;

    /// <summary>How often what has been recorded but not yet written (a block fills slowly on a quiet screen) goes to disk.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly byte[] _frameHeader = new byte[FrameHeaderLength];
    private readonly RecordingFile _file;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly CancellationTokenSource _stopFlushing = new();
    private readonly Task _flushing;
    private readonly ILogger _logger;
    private byte _frameDirection;
    private long _frameStarted;
    private long _frameLengthAt;
    private long _frameEnd = -1;
    private long _bytes;
    private bool _closed;
    private int _disposed;

    internal ScreenRecording(RelayPair stream, string path, string relativePath, DateTimeOffset startedAt, TimeProvider time, ILogger logger)
    {
        _logger = logger;
        Stream = stream;
        Path = path;
        RelativePath = relativePath;
        StartedAt = startedAt;
        _file = new RecordingFile(PartialPath);
        var header = new StringBuilder("PSREC/1\n")
            .Append(JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["session"] = stream.SessionId,
                ["stream"] = stream.Id,
                ["service"] = stream.Service,
                ["startedAt"] = AuditChain.Time(startedAt),
            }))
            .Append('\n')
            .ToString();
        _file.Begin(Encoding.UTF8.GetBytes(header));
        _flushing = FlushEveryIntervalAsync(time, _stopFlushing.Token);
    }

    public RelayPair Stream { get; }

    /// <summary>Where the recording is once saved.</summary>
    public string Path { get; }

    /// <summary>Where it is written until then (<see cref="PartialSuffix"/>): a start after a crash finds what was cut off.</summary>
    public string PartialPath => Path + PartialSuffix;

    /// <summary>The path below the data folder's <c>recordings/</c>, as the audit event names it.</summary>
    public string RelativePath { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary>The two halves with the recording tapped into what each one reads.</summary>
    public (Stream Supporter, Stream Host) Tap(Stream supporterHalf, Stream hostHalf) =>
        (new TappedStream(supporterHalf, this, ClientToServer), new TappedStream(hostHalf, this, ServerToClient));

    /// <summary>Appends one frame; both pump directions take turns (the frame header buffer is the gate's too).</summary>
    internal async ValueTask AppendAsync(byte direction, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_closed)
            {
                return;
            }

            var now = (long)_clock.Elapsed.TotalMicroseconds;
            // Reads of one direction in quick succession (a busy stream: a read brings one TLS record, at most 16 KiB)
            // go into one frame, shown at its first read's time: far fewer frames, and no replay can tell the difference.
            if (direction == _frameDirection && now - _frameStarted < CoalesceMicroseconds && _file.TryExtend(_frameLengthAt, _frameEnd, bytes.Span))
            {
                _frameEnd = _file.Length;
                _bytes += bytes.Length;
                return;
            }

            _frameHeader[0] = direction;
            BinaryPrimitives.WriteInt64BigEndian(_frameHeader.AsSpan(1), now);
            BinaryPrimitives.WriteInt32BigEndian(_frameHeader.AsSpan(9), bytes.Length);
            // A frame is written whole (at most one block write to wait for): a cut-off frame would end the replay early.
            (_frameDirection, _frameStarted, _frameLengthAt) = (direction, now, _file.Length + 9);
            await _file.AppendAsync(_frameHeader, CancellationToken.None);
            await _file.AppendAsync(bytes, CancellationToken.None);
            _frameEnd = _file.Length;
            _bytes += bytes.Length;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Writes the rest and closes the file (still at <see cref="PartialPath"/>); returns its length and how many
    /// stream bytes it holds.
    /// </summary>
    public async Task<(long Length, long RecordedBytes)> CloseAsync(CancellationToken cancellationToken)
    {
        await StopFlushingAsync();
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_closed)
            {
                throw new InvalidOperationException("the recording was closed already");
            }

            _closed = true;
            await _file.CompleteAsync();
            return (_file.Length, _bytes);
        }
        finally
        {
            _gate.Release();
            await _file.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await StopFlushingAsync();
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            _closed = true;
        }
        finally
        {
            _gate.Release();
        }

        await _file.DisposeAsync();
        _gate.Dispose();
        _stopFlushing.Dispose();
    }

    /// <summary>Every <see cref="FlushInterval"/>, puts what was recorded since on disk (<see cref="RecordingFile.FlushAsync"/>).</summary>
    private async Task FlushEveryIntervalAsync(TimeProvider time, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(FlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await _gate.WaitAsync(cancellationToken);
                try
                {
                    if (_closed)
                    {
                        return;
                    }

                    await _file.FlushAsync(CancellationToken.None);
                }
                finally
                {
                    _gate.Release();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Completed or closed.
        }
        catch (Exception ex)
        {
            // A write failed: the next block or the completion fails the same way, and ends the stream.
            LogFlushFailed(_logger, PartialPath, ex);
        }
    }

    private async Task StopFlushingAsync()
    {
        await _stopFlushing.CancelAsync();
        await _flushing;
    }

    [LoggerMessage(EventId = 5104, Level = LogLevel.Error, Message = "Recording {Path} could not be written")]
    private static partial void LogFlushFailed(ILogger logger, string path, Exception exception);

    /// <summary>A relay half whose reads are copied into the recording; writes and everything else pass through.</summary>
    private sealed class TappedStream(Stream inner, ScreenRecording recording, byte direction) : Stream
    {
        public override bool CanRead => inner.CanRead;

        public override bool CanSeek => false;

        public override bool CanWrite => inner.CanWrite;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        // A read of the relay mostly waits for data, so its state machine would be a new object per read (at most one
        // 16 KiB TLS record each: tens of thousands per GiB); pooled instead.
        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            if (read > 0)
            {
                await recording.AppendAsync(direction, buffer[..read], cancellationToken);
            }

            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("the relay reads asynchronously");

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            inner.WriteAsync(buffer, offset, count, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override void Flush() => inner.Flush();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
