using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PrivateServer.Protocol.Files;

/// <summary>
/// The file-transfer protocol on a relay stream to the host's <c>files</c> service. The supporter
/// sends a <see cref="FileRequest"/>, the host a <see cref="FileReply"/>; each is one frame (4-byte
/// big-endian length, then that many bytes of JSON, at most <see cref="MaximumFrame"/>). File bytes
/// follow a frame raw, exactly as many as the frames announce:
/// <list type="bullet">
/// <item><c>list</c> PATH → entries.</item>
/// <item><c>put</c> PATH SIZE SHA256 → OFFSET (bytes the host already holds from an interrupted
/// upload of this very file), then the supporter sends SIZE−OFFSET bytes → the host checks the
/// SHA-256 of the whole file and only then puts it in place (ok, or an error and nothing changed).</item>
/// <item><c>get</c> PATH OFFSET → SIZE SHA256, then the host sends SIZE−OFFSET bytes from OFFSET; the
/// supporter checks the SHA-256 of the whole file.</item>
/// </list>
/// Paths are relative to the host's shared folder, with '/' between folders.
/// </summary>
public static class FileTransferProtocol
{
    public const string List = "list";
    public const string Put = "put";
    public const string Get = "get";

    public const int MaximumFrame = 256 * 1024;

    /// <summary>The largest file when the session request names no limit (1 GiB; group policies set their own).</summary>
    public const long DefaultMaxFileSize = 1L << 30;

    /// <summary>How much file data is read or written at a time.</summary>
    public const int ChunkSize = 256 * 1024;

    public static async Task WriteAsync<T>(Stream stream, T message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var json = JsonSerializer.SerializeToUtf8Bytes(message, typeof(T), FileTransferJson.Default);
        var frame = new byte[4 + json.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, json.Length);
        json.CopyTo(frame, 4);
        await stream.WriteAsync(frame, cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    /// <summary>The next frame, or null when the stream ended cleanly before one began.</summary>
    /// <exception cref="FileTransferException">A frame that is too long, cut off or not the expected JSON.</exception>
    public static async Task<T?> ReadAsync<T>(Stream stream, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(stream);
        var header = new byte[4];
        var got = await stream.ReadAtLeastAsync(header, 4, throwOnEndOfStream: false, cancellationToken);
        if (got == 0)
        {
            return null;
        }

        if (got < 4)
        {
            throw new FileTransferException("the file-transfer stream ended inside a frame");
        }

        var length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (length is <= 0 or > MaximumFrame)
        {
            throw new FileTransferException($"a file-transfer frame of {length} bytes is not allowed (at most {MaximumFrame})");
        }

        var json = new byte[length];
        if (await stream.ReadAtLeastAsync(json, length, throwOnEndOfStream: false, cancellationToken) < length)
        {
            throw new FileTransferException("the file-transfer stream ended inside a frame");
        }

        try
        {
            return (T?)JsonSerializer.Deserialize(json, typeof(T), FileTransferJson.Default)
                ?? throw new FileTransferException("an empty file-transfer frame");
        }
        catch (JsonException ex)
        {
            throw new FileTransferException("a file-transfer frame is not valid: " + ex.Message, ex);
        }
    }

    /// <summary>Copies exactly <paramref name="count"/> bytes, feeding each chunk to <paramref name="seen"/> (hashing) on the way.</summary>
    public static async Task CopyExactlyAsync(Stream from, Stream to, long count, Action<ReadOnlySpan<byte>> seen, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        ArgumentNullException.ThrowIfNull(seen);
        var buffer = new byte[ChunkSize];
        while (count > 0)
        {
            var read = await from.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), cancellationToken);
            if (read == 0)
            {
                throw new FileTransferException($"the stream ended {count} bytes before the end of the file");
            }

            seen(buffer.AsSpan(0, read));
            await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            count -= read;
        }
    }
}

/// <summary>A supporter's request. <see cref="Size"/> and <see cref="Sha256"/> go with <c>put</c>, <see cref="Offset"/> with <c>get</c>.</summary>
public sealed record FileRequest(string Op, string? Path, long? Size = null, string? Sha256 = null, long? Offset = null);

/// <summary>The host's answer; <see cref="Error"/> says in one line why not.</summary>
public sealed record FileReply(bool Ok, string? Error = null, long? Size = null, long? Offset = null, string? Sha256 = null, IReadOnlyList<FileEntry>? Entries = null)
{
    public static FileReply Fail(string error) => new(false, error);
}

/// <summary>One entry of a listing: a file with its size, a folder, or a link (shown, never followed).</summary>
public sealed record FileEntry(string Name, string Kind, long Size, DateTimeOffset Modified)
{
    public const string FileKind = "file";
    public const string FolderKind = "folder";
    public const string LinkKind = "link";
}

/// <summary>The file-transfer stream broke its protocol (garbled or oversized frame, cut off), or a transfer failed its check.</summary>
public sealed class FileTransferException : IOException
{
    public FileTransferException(string message)
        : base(message)
    {
    }

    public FileTransferException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, MaxDepth = 8)]
[JsonSerializable(typeof(FileRequest))]
[JsonSerializable(typeof(FileReply))]
internal sealed partial class FileTransferJson : JsonSerializerContext;
