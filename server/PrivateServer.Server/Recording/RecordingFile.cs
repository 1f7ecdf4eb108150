using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace PrivateServer.Server.Recording;

/// <summary>
/// An append-only file written in 1 MiB blocks. Two blocks take turns: while one is written on the thread pool, the
/// relay fills the other, so the pump waits for the disk only when it outruns it. On Linux the blocks bypass the page
/// cache (<c>O_DIRECT</c>): a recording is written once and read rarely, and copying it through the cache costs about
/// ten times the CPU (measured in this VM: 2.8 s against 0.27 s of kernel time per GiB). Where the file system refuses
/// direct writes, the same blocks go through the cache. The last, partial block is written after direct writing is
/// switched off (direct writes need whole blocks). The file is hashed once it is complete (<see cref="HashAsync"/>),
/// reading it back the same way: the SHA-256 is what the disk holds, and it costs the relay nothing while it runs.
/// A block that fills slowly is written and synced in the meantime (<see cref="FlushAsync"/>), so that a crash loses little.
/// Not thread-safe: the caller serialises appends and flushes.
/// </summary>
internal sealed partial class RecordingFile : IAsyncDisposable
{
    private const int BlockSize = 1024 * 1024;
    private const int Alignment = 4096;
    private const int SetStatusFlags = 4; // F_SETFL
    private const int GetStatusFlags = 3; // F_GETFL

    private readonly FileStream _stream;
    private readonly SafeFileHandle _handle;
    private readonly byte[] _pinned;
    private readonly int _start;
    private int _current;
    private int _filled;
    private int _flushed;
    private long _written;
    private long _writtenAtLastFlush;
    private bool _direct;
    private Task _pending = Task.CompletedTask;

    public RecordingFile(string path)
    {
        // A FileStream only to create the file with its mode in one step; its handle is written at explicit offsets.
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.Read, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        // One pinned buffer for both blocks (pinned arrays never move), from its first 4 KiB boundary: direct writes
        // need aligned memory.
        _pinned = GC.AllocateUninitializedArray<byte>((2 * BlockSize) + Alignment, pinned: true);
        _start = AlignedStart(_pinned);
        _stream = new FileStream(path, options);
        _handle = _stream.SafeFileHandle;
        _direct = TrySetDirect(_handle, on: true);
    }

    /// <summary>Bytes appended so far (the file's length once completed).</summary>
    public long Length => _written + _filled;

    /// <summary>Whether whole blocks bypass the page cache.</summary>
    public bool Direct => _direct;

    /// <summary>The first bytes of the file (they must fit in its first block).</summary>
    public void Begin(ReadOnlySpan<byte> header)
    {
        if (Length != 0 || header.Length > BlockSize)
        {
            throw new InvalidOperationException("a recording's header comes first and fits in one block");
        }

        header.CopyTo(_pinned.AsSpan(Offset(_current)));
        _filled = header.Length;
    }

    public async ValueTask AppendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        while (!bytes.IsEmpty)
        {
            var take = Math.Min(bytes.Length, BlockSize - _filled);
            bytes.Span[..take].CopyTo(_pinned.AsSpan(Offset(_current) + _filled, take));
            _filled += take;
            bytes = bytes[take..];
            if (_filled == BlockSize)
            {
                // The other block must be on disk before it is filled again.
                await _pending.WaitAsync(cancellationToken);
                var (block, at) = (_current, _written);
                _pending = Task.Run(() => WriteBlock(block, BlockSize, at), CancellationToken.None);
                (_current, _written, _filled, _flushed) = (1 - _current, _written + BlockSize, 0, 0);
            }
        }
    }

    /// <summary>
    /// Appends <paramref name="bytes"/> to the frame whose 4-byte big-endian length field is at file offset
    /// <paramref name="lengthAt"/>, and adds their count to that field — when the field is in the block being filled and
    /// not yet written by a flush (on disk a frame's length never disagrees with its bytes), the frame ends where the
    /// block is filled to, and the bytes fit without filling the block. False, changing nothing, otherwise.
    /// </summary>
    public bool TryExtend(long lengthAt, long frameEnd, ReadOnlySpan<byte> bytes)
    {
        var field = lengthAt - _written;
        if (field < _flushed || field + 4 > _filled || frameEnd != Length || _filled + bytes.Length >= BlockSize)
        {
            return false;
        }

        var length = _pinned.AsSpan(Offset(_current) + (int)field, 4);
        BinaryPrimitives.WriteInt32BigEndian(length, BinaryPrimitives.ReadInt32BigEndian(length) + bytes.Length);
        bytes.CopyTo(_pinned.AsSpan(Offset(_current) + _filled));
        _filled += bytes.Length;
        return true;
    }

    /// <summary>
    /// Writes what the block being filled holds now, through the cache (a direct write needs whole pages), and syncs the
    /// file to the device, so that a process that dies — or a machine that loses power — loses nothing appended before.
    /// Only the pages with new bytes are written; the block is written whole (past the cache) again when it is full.
    /// Nothing to do when nothing new is there, while a block is being written, or when one went out since the last call.
    /// </summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        // A block that went out since the last flush means a busy stream: the block being filled is younger than the
        // flush interval and is written soon anyway. A block being written now is not waited for either (the relay would
        // wait with it): the next flush comes soon enough.
        var blockWentOut = _written != _writtenAtLastFlush;
        _writtenAtLastFlush = _written;
        if (blockWentOut || _filled <= _flushed || !_pending.IsCompleted)
        {
            return;
        }

        await _pending.WaitAsync(cancellationToken); // Reports a write that failed.
        var (block, from, to, at) = (_current, _flushed & ~(Alignment - 1), _filled, _written);
        _pending = Task.Run(() => WriteCached(block, from, to, at), CancellationToken.None);
        _flushed = to;
    }

    /// <summary>Writes what is left; the file is complete (<see cref="Length"/> bytes).</summary>
    public async Task CompleteAsync()
    {
        await _pending;
        if (_direct && TrySetDirect(_handle, on: false))
        {
            _direct = false;
        }

        WriteBlock(_current, _filled, _written);
        (_written, _filled) = (_written + _filled, 0);
    }

    /// <summary>
    /// The SHA-256 of a complete file and how many bytes it covers (the file's length), read back in 1 MiB blocks past
    /// the page cache where the file system allows it (the next block is read while the last one is hashed).
    /// </summary>
    public static async Task<(byte[] Sha256, long Length)> HashAsync(string path, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read, BufferSize = 0 };
        await using var stream = new FileStream(path, options);
        var handle = stream.SafeFileHandle;
        var length = RandomAccess.GetLength(handle);
        var pinned = GC.AllocateUninitializedArray<byte>((2 * BlockSize) + Alignment, pinned: true);
        var start = AlignedStart(pinned);
        var direct = TrySetDirect(handle, on: true);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var (current, at) = (0, 0L);
        var read = length == 0 ? 0 : await ReadBlockAsync(0, 0);
        while (at < length)
        {
            if (read == 0)
            {
                throw new IOException($"{path} ended after {at} of its {length} bytes while it was hashed");
            }

            // A short read (possible on some file systems) is no end: the next read starts where it stopped.
            var next = at + read < length ? ReadBlockAsync(at + read, 1 - current) : Task.FromResult(0);
            hash.AppendData(pinned, start + (current * BlockSize), read);
            (at, current) = (at + read, 1 - current);
            read = await next;
        }

        return (hash.GetHashAndReset(), at);

        async Task<int> ReadBlockAsync(long offset, int block)
        {
            var memory = pinned.AsMemory(start + (block * BlockSize), BlockSize);
            if (direct && offset % Alignment != 0 && TrySetDirect(handle, on: false))
            {
                direct = false; // Only after a short read: direct reads need aligned offsets.
            }

            try
            {
                return await RandomAccess.ReadAsync(handle, memory, offset, cancellationToken);
            }
            catch (IOException) when (direct && TrySetDirect(handle, on: false))
            {
                // A file system that takes the flag but not the reads: the cache it is.
                direct = false;
                return await RandomAccess.ReadAsync(handle, memory, offset, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Closes the file; without <see cref="CompleteAsync"/> (a recording that failed) the last partial block is written
    /// only as far as a flush wrote it.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _pending;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Closing a recording that failed: its error was reported where it was awaited.
        }
        finally
        {
            await _stream.DisposeAsync();
        }
    }

    private int Offset(int block) => _start + (block * BlockSize);

    private static int AlignedStart(byte[] pinned)
    {
        var address = Marshal.UnsafeAddrOfPinnedArrayElement(pinned, 0).ToInt64();
        return (int)((Alignment - (address % Alignment)) % Alignment);
    }

    private void WriteBlock(int index, int length, long at)
    {
        var block = _pinned.AsSpan(Offset(index), length);
        try
        {
            RandomAccess.Write(_handle, block, at);
        }
        catch (IOException) when (_direct && TrySetDirect(_handle, on: false))
        {
            // A file system that takes the flag but not the writes: the cache it is.
            _direct = false;
            RandomAccess.Write(_handle, block, at);
        }
    }

    private void WriteCached(int index, int from, int to, long at)
    {
        var direct = _direct;
        if (direct && !TrySetDirect(_handle, on: false))
        {
            return; // Cannot leave direct writing for a moment: the block goes to disk when it is full.
        }

        try
        {
            RandomAccess.Write(_handle, _pinned.AsSpan(Offset(index) + from, to - from), at + from);
            _stream.Flush(flushToDisk: true);
        }
        finally
        {
            if (direct && !TrySetDirect(_handle, on: true))
            {
                _direct = false;
            }
        }
    }

    /// <summary>
    /// Switches O_DIRECT on or off (Linux on x64 and arm64, where its value is known); true when that worked. Elsewhere,
    /// or when the C library cannot be called, the file is written through the cache.
    /// </summary>
    private static bool TrySetDirect(SafeFileHandle handle, bool on)
    {
        var flag = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 0x4000,
            Architecture.Arm64 => 0x10000,
            _ => 0,
        };
        if (!OperatingSystem.IsLinux() || flag == 0)
        {
            return false;
        }

        try
        {
            var descriptor = (int)handle.DangerousGetHandle();
            var flags = Fcntl(descriptor, GetStatusFlags, 0);
            return flags >= 0 && Fcntl(descriptor, SetStatusFlags, on ? flags | flag : flags & ~flag) == 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int descriptor, int command, int argument);
}
