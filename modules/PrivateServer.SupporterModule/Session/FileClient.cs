using System.Security.Cryptography;
using PrivateServer.Protocol.Files;

namespace PrivateServer.SupporterModule.Session;

/// <summary>
/// The supporter's side of the file-transfer protocol (<see cref="FileTransferProtocol"/>) on one
/// stream. Uploads and downloads are checked with SHA-256 end to end; an interrupted one continues
/// where it stopped when run again (an upload from the host's part file, a download from
/// <c>LOCAL.part</c>).
/// </summary>
internal static class FileClient
{
    public static async Task<IReadOnlyList<FileEntry>> ListAsync(Stream stream, string path, CancellationToken cancellationToken)
    {
        var reply = await AskAsync(stream, new FileRequest(FileTransferProtocol.List, path), cancellationToken);
        return reply.Entries ?? [];
    }

    /// <summary>Uploads <paramref name="local"/>; returns its SHA-256 and how many bytes were already on the host.</summary>
    public static async Task<(string Sha256, long Resumed)> SendAsync(Stream stream, string local, string remote, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(local, FileMode.Open, FileAccess.Read, FileShare.Read, FileTransferProtocol.ChunkSize, useAsync: true);
        var size = file.Length;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await FileTransferProtocol.CopyExactlyAsync(file, Stream.Null, size, hash.AppendData, cancellationToken);
        var sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
        var start = await AskAsync(stream, new FileRequest(FileTransferProtocol.Put, remote, size, sha256), cancellationToken);
        var offset = start.Offset ?? 0;
        if (offset < 0 || offset > size)
        {
            throw new FileTransferException($"the host wants to continue at byte {offset} of {size}");
        }

        file.Position = offset;
        await FileTransferProtocol.CopyExactlyAsync(file, stream, size - offset, _ => { }, cancellationToken);
        await stream.FlushAsync(cancellationToken);
        var done = await AskAsync(stream, null, cancellationToken);
        return done.Sha256 == sha256 ? (sha256, offset) : throw new FileTransferException($"the host stored the SHA-256 {done.Sha256}, not {sha256}");
    }

    /// <summary>Downloads <paramref name="remote"/> to <paramref name="local"/> (through <c>local.part</c>); returns its SHA-256, size and the bytes that were already here.</summary>
    public static async Task<(string Sha256, long Size, long Resumed)> FetchAsync(Stream stream, string remote, string local, CancellationToken cancellationToken)
    {
        var part = local + ".part";
        var offset = File.Exists(part) ? new FileInfo(part).Length : 0;
        FileReply start;
        try
        {
            start = await AskAsync(stream, new FileRequest(FileTransferProtocol.Get, remote, Offset: offset), cancellationToken);
        }
        catch (FileTransferException) when (offset > 0)
        {
            // The file on the host is shorter than what we kept: start over.
            offset = 0;
            start = await AskAsync(stream, new FileRequest(FileTransferProtocol.Get, remote, Offset: 0), cancellationToken);
        }

        var size = start.Size ?? throw new FileTransferException("the host did not say the file's size");
        var expected = start.Sha256 ?? throw new FileTransferException("the host did not say the file's SHA-256");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var file = new FileStream(part, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, FileTransferProtocol.ChunkSize, useAsync: true))
        {
            await FileTransferProtocol.CopyExactlyAsync(file, Stream.Null, offset, hash.AppendData, cancellationToken);
            file.SetLength(offset);
            await FileTransferProtocol.CopyExactlyAsync(stream, file, size - offset, hash.AppendData, cancellationToken);
            await file.FlushAsync(cancellationToken);
        }

        var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (actual != expected)
        {
            File.Delete(part);
            throw new FileTransferException($"'{remote}' arrived with the SHA-256 {actual}, not {expected}: it changed on the host meanwhile; fetch it again");
        }

        File.Move(part, local, overwrite: true);
        return (actual, size, offset);
    }

    /// <summary>Sends <paramref name="request"/> (if any) and reads the reply; a refusal becomes an exception with the host's reason.</summary>
    private static async Task<FileReply> AskAsync(Stream stream, FileRequest? request, CancellationToken cancellationToken)
    {
        if (request is not null)
        {
            await FileTransferProtocol.WriteAsync(stream, request, cancellationToken);
        }

        var reply = await FileTransferProtocol.ReadAsync<FileReply>(stream, cancellationToken)
            ?? throw new FileTransferException("the host closed the file-transfer stream");
        return reply.Ok ? reply : throw new FileTransferException(reply.Error ?? "the host refused");
    }
}
