using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Relay;

namespace PrivateServer.Server.Recording;

/// <summary>
/// One recorded screen stream: the RFB bytes both ways with their times, as the relay pumps them.
/// File format (<c>.psrec</c>): the line <c>PSREC/1</c>, one line of JSON
/// (<c>{"session":…,"stream":…,"service":…,"startedAt":…}</c>), then frames — 1 byte direction
/// (<c>S</c> host→supporter, i.e. what the VNC server sent; <c>C</c> supporter→host), 8 bytes
/// microseconds since the start, 4 bytes length (both big-endian), the bytes. Frames are buffered
/// and written in 1 MiB blocks; both pump directions append under one lock.
/// </summary>
public sealed class ScreenRecording : IAsyncDisposable
{
    public const byte ServerToClient = (byte)'S';
    public const byte ClientToServer = (byte)'C';
    private const int FrameHeaderLength = 13;

    private readonly Lock _lock = new();
    private readonly FileStream _file;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _bytes;
    private bool _closed;

    internal ScreenRecording(RelayPair stream, string path, string relativePath, DateTimeOffset startedAt)
    {
        Stream = stream;
        Path = path;
        RelativePath = relativePath;
        StartedAt = startedAt;
        // 1 MiB: relay chunks are up to 128 KiB; a smaller buffer costs a write call per chunk on the pump's thread.
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, BufferSize = 1024 * 1024 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        _file = new FileStream(path, options);
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
        Write(Encoding.UTF8.GetBytes(header));
    }

    public RelayPair Stream { get; }

    public string Path { get; }

    /// <summary>The path below the data folder's <c>recordings/</c>, as the audit event names it.</summary>
    public string RelativePath { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary>The two halves with the recording tapped into what each one reads.</summary>
    public (Stream Supporter, Stream Host) Tap(Stream supporterHalf, Stream hostHalf) =>
        (new TappedStream(supporterHalf, this, ClientToServer), new TappedStream(hostHalf, this, ServerToClient));

    internal void Append(byte direction, ReadOnlySpan<byte> bytes)
    {
        Span<byte> header = stackalloc byte[FrameHeaderLength];
        header[0] = direction;
        BinaryPrimitives.WriteInt64BigEndian(header[1..], (long)_clock.Elapsed.TotalMicroseconds);
        BinaryPrimitives.WriteInt32BigEndian(header[9..], bytes.Length);
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            Write(header);
            Write(bytes);
            _bytes += bytes.Length;
        }
    }

    /// <summary>Writes to the file and to its hash: the file is hashed as it is written, never read back.</summary>
    private void Write(ReadOnlySpan<byte> bytes)
    {
        _file.Write(bytes);
        _hash.AppendData(bytes);
    }

    /// <summary>Closes the file and returns its SHA-256 (hex) and length.</summary>
    public async Task<(string Sha256, long Length, long RecordedBytes)> CompleteAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _closed = true;
        }

        await _file.FlushAsync(cancellationToken);
        var length = _file.Length;
        await _file.DisposeAsync();
        return (Convert.ToHexStringLower(_hash.GetHashAndReset()), length, _bytes);
    }

    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            _closed = true;
        }

        await _file.DisposeAsync();
        _hash.Dispose();
    }

    /// <summary>A relay half whose reads are copied into the recording; writes and everything else pass through.</summary>
    private sealed class TappedStream(Stream inner, ScreenRecording recording, byte direction) : Stream
    {
        public override bool CanRead => inner.CanRead;

        public override bool CanSeek => false;

        public override bool CanWrite => inner.CanWrite;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            if (read > 0)
            {
                recording.Append(direction, buffer.Span[..read]);
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
