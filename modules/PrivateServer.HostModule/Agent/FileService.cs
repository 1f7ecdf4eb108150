using System.Globalization;
using System.Security.Cryptography;
using PrivateServer.HostModule.Resources;
using PrivateServer.Protocol.Control;
using PrivateServer.Protocol.Files;

namespace PrivateServer.HostModule.Agent;

/// <summary>
/// The host's side of one file-transfer stream (<see cref="FileTransferProtocol"/>), confined to
/// the shared folder. A bad request gets an error reply and the stream goes on; a garbled frame or
/// a stream cut off inside file bytes ends the stream. An upload interrupted by a dropped
/// connection leaves its bytes in a hidden part file (named after the file's SHA-256) that the
/// next upload of the same file continues; a finished upload lands only when its SHA-256 matches.
/// </summary>
internal sealed class FileService(FileRoot root, Func<FileTransferred, Task> report, Action<string> say)
{
    private const int MaximumEntries = 1000;

    /// <summary>Left free on the shared folder's disk, whatever a supporter sends.</summary>
    private const long KeepFree = 64L * 1024 * 1024;

    /// <summary>Serves requests on <paramref name="stream"/> for session <paramref name="sessionId"/> until it ends; <paramref name="maxFileSize"/> is the largest file the session's group allows, either way.</summary>
    public async Task ServeAsync(string sessionId, Stream stream, long maxFileSize, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        while (true)
        {
            FileRequest? request;
            try
            {
                request = await FileTransferProtocol.ReadAsync<FileRequest>(stream, cancellationToken);
            }
            catch (FileTransferException ex)
            {
                say(HostText.FileRefused(ex.Message));
                await TryReplyAsync(stream, FileReply.Fail(ex.Message), cancellationToken);
                return;
            }

            if (request is null)
            {
                return;
            }

            try
            {
                var keepGoing = request.Op switch
                {
                    FileTransferProtocol.List => await ListAsync(stream, request, cancellationToken),
                    FileTransferProtocol.Put => await PutAsync(sessionId, stream, request, maxFileSize, cancellationToken),
                    FileTransferProtocol.Get => await GetAsync(sessionId, stream, request, maxFileSize, cancellationToken),
                    _ => await RefuseAsync(stream, $"'{request.Op}' is not a file operation (list, put, get)", cancellationToken),
                };
                if (!keepGoing)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is FileTransferException or UnauthorizedAccessException or IOException and not EndOfStreamException)
            {
                // Before any file bytes moved: the request was refused, the stream is still in step.
                await RefuseAsync(stream, ex.Message, cancellationToken);
            }
        }
    }

    private async Task<bool> ListAsync(Stream stream, FileRequest request, CancellationToken cancellationToken)
    {
        var folder = new DirectoryInfo(root.Resolve(request.Path, allowRoot: true));
        if (!folder.Exists)
        {
            return await RefuseAsync(stream, $"'{FileRoot.Display(request.Path)}' is not a folder in the shared folder", cancellationToken);
        }

        var entries = folder.EnumerateFileSystemInfos()
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .Take(MaximumEntries)
            .Select(e => new FileEntry(
                e.Name,
                e.LinkTarget is not null ? FileEntry.LinkKind : e is DirectoryInfo ? FileEntry.FolderKind : FileEntry.FileKind,
                e is FileInfo file && e.LinkTarget is null ? file.Length : 0,
                e.LastWriteTimeUtc))
            .ToList();
        await FileTransferProtocol.WriteAsync(stream, new FileReply(true, Entries: entries), cancellationToken);
        return true;
    }

    private async Task<bool> PutAsync(string sessionId, Stream stream, FileRequest request, long maxFileSize, CancellationToken cancellationToken)
    {
        var target = root.Resolve(request.Path, allowRoot: false);
        var shown = FileRoot.Display(request.Path);
        if (request.Size is not { } size || size < 0)
        {
            return await RefuseAsync(stream, "an upload needs the file's size", cancellationToken);
        }

        if (size > maxFileSize)
        {
            return await RefuseAsync(stream, TooLarge(shown, size, maxFileSize), cancellationToken);
        }

        if (request.Sha256 is not { Length: 64 } expected || !expected.All(Uri.IsHexDigit))
        {
            return await RefuseAsync(stream, "an upload needs the file's SHA-256 (64 hex digits)", cancellationToken);
        }

        if (Directory.Exists(target))
        {
            return await RefuseAsync(stream, $"'{shown}' is a folder", cancellationToken);
        }

        var folder = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(folder);
        var part = Path.Combine(folder, $".{Path.GetFileName(target)}.{expected[..16].ToLowerInvariant()}.part");
        if (new FileInfo(part).LinkTarget is not null)
        {
            File.Delete(part);
        }

        var offset = File.Exists(part) ? new FileInfo(part).Length : 0;
        if (offset > size)
        {
            File.Delete(part);
            offset = 0;
        }

        var free = new DriveInfo(folder).AvailableFreeSpace;
        if (size - offset > free - KeepFree)
        {
            return await RefuseAsync(stream, $"'{shown}' ({size} bytes) does not fit on this computer's disk", cancellationToken);
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var file = new FileStream(part, offset > 0 ? FileMode.Open : FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileTransferProtocol.ChunkSize, useAsync: true))
        {
            await HashAsync(file, offset, hash, cancellationToken);
            file.SetLength(offset);
            file.Position = offset;
            await FileTransferProtocol.WriteAsync(stream, new FileReply(true, Offset: offset), cancellationToken);
            try
            {
                await FileTransferProtocol.CopyExactlyAsync(stream, file, size - offset, hash.AppendData, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException)
            {
                // The connection dropped: what arrived stays in the part file for the next attempt.
                await file.FlushAsync(CancellationToken.None);
                say(HostText.FileRefused($"'{shown}': the upload was interrupted at {file.Length} of {size} bytes; it can be resumed"));
                return false;
            }

            await file.FlushAsync(cancellationToken);
        }

        var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(part);
            return await RefuseAsync(stream, $"'{shown}' arrived with the SHA-256 {actual}, not {expected.ToLowerInvariant()}; nothing was written", cancellationToken);
        }

        File.Move(part, target, overwrite: true);
        // Told to the server first: the supporter may end the session as soon as it has the answer.
        say(HostText.FileReceived(shown, size.ToString("N0", CultureInfo.CurrentCulture)));
        await report(new FileTransferred(sessionId, FileTransferred.ToHost, shown, size, actual));
        await FileTransferProtocol.WriteAsync(stream, new FileReply(true, Size: size, Sha256: actual), cancellationToken);
        return true;
    }

    private async Task<bool> GetAsync(string sessionId, Stream stream, FileRequest request, long maxFileSize, CancellationToken cancellationToken)
    {
        var path = root.Resolve(request.Path, allowRoot: false);
        var shown = FileRoot.Display(request.Path);
        var info = new FileInfo(path);
        if (Directory.Exists(path))
        {
            return await RefuseAsync(stream, $"'{shown}' is a folder", cancellationToken);
        }

        if (!info.Exists)
        {
            return await RefuseAsync(stream, $"'{shown}' does not exist in the shared folder", cancellationToken);
        }

        var offset = request.Offset ?? 0;
        if (info.Length == 0)
        {
            // Empty — or a device, FIFO or socket, which report no size and are never opened.
            if (offset != 0)
            {
                return await RefuseAsync(stream, $"'{shown}' has no byte {offset}", cancellationToken);
            }

            var empty = Convert.ToHexStringLower(SHA256.HashData([]));
            await FileTransferProtocol.WriteAsync(stream, new FileReply(true, Size: 0, Sha256: empty), cancellationToken);
            await report(new FileTransferred(sessionId, FileTransferred.FromHost, shown, 0, empty));
            return true;
        }

        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileTransferProtocol.ChunkSize, useAsync: true);
        var size = file.Length;
        if (size > maxFileSize)
        {
            return await RefuseAsync(stream, TooLarge(shown, size, maxFileSize), cancellationToken);
        }

        if (offset < 0 || offset > size)
        {
            return await RefuseAsync(stream, $"'{shown}' has {size} bytes; cannot continue at {offset}", cancellationToken);
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await HashAsync(file, size, hash, cancellationToken);
        var sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
        await FileTransferProtocol.WriteAsync(stream, new FileReply(true, Size: size, Sha256: sha256), cancellationToken);
        file.Position = offset;
        try
        {
            await FileTransferProtocol.CopyExactlyAsync(file, stream, size - offset, _ => { }, cancellationToken);
            await stream.FlushAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            return false;
        }

        say(HostText.FileSent(shown, size.ToString("N0", CultureInfo.CurrentCulture)));
        await report(new FileTransferred(sessionId, FileTransferred.FromHost, shown, size, sha256));
        return true;
    }

    private static string TooLarge(string shown, long size, long maxFileSize) =>
        $"'{shown}' has {size} bytes; the group's policy allows files of at most {maxFileSize} bytes";

    /// <summary>Hashes the first <paramref name="count"/> bytes of <paramref name="file"/> from its start.</summary>
    private static async Task HashAsync(FileStream file, long count, IncrementalHash hash, CancellationToken cancellationToken)
    {
        file.Position = 0;
        await FileTransferProtocol.CopyExactlyAsync(file, Stream.Null, count, hash.AppendData, cancellationToken);
    }

    private async Task<bool> RefuseAsync(Stream stream, string why, CancellationToken cancellationToken)
    {
        say(HostText.FileRefused(why));
        // A system error names full paths: the supporter learns nothing of the host's folders outside what is shared.
        var told = why.Replace(root.Root + Path.DirectorySeparatorChar, string.Empty, StringComparison.Ordinal).Replace(root.Root, "/", StringComparison.Ordinal);
        await FileTransferProtocol.WriteAsync(stream, FileReply.Fail(told), cancellationToken);
        return true;
    }

    private static async Task TryReplyAsync(Stream stream, FileReply reply, CancellationToken cancellationToken)
    {
        try
        {
            await FileTransferProtocol.WriteAsync(stream, reply, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The stream is gone already.
        }
    }
}
