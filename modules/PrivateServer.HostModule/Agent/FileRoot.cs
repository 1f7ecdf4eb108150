using PrivateServer.Protocol.Files;

namespace PrivateServer.HostModule.Agent;

/// <summary>
/// The folder a host shares with <c>--files DIR</c>, and the only place file transfer may touch.
/// A supporter's path is relative, uses '/', has no '.' or '..' segment and no control character;
/// every part of it that exists must be a real folder or file, never a symbolic link (links are
/// listed but not followed). Uploads are written to a new temporary file beside the target and
/// renamed over it, so an existing device, FIFO or link is replaced, never written through.
/// Downloads open only what reports a size: device files, FIFOs and sockets report none and are
/// sent as empty without being opened.
/// </summary>
internal sealed class FileRoot
{
    public FileRoot(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Root = Path.GetFullPath(directory);
        if (!Directory.Exists(Root) || new DirectoryInfo(Root).LinkTarget is not null)
        {
            throw new ArgumentException($"--files: {Root} is not a folder");
        }
    }

    public string Root { get; }

    /// <summary>The full path of <paramref name="relative"/> inside the root (the root itself for an empty path when <paramref name="allowRoot"/>).</summary>
    /// <exception cref="FileTransferException">The path leaves the root, names a link, or is malformed; the message says which.</exception>
    public string Resolve(string? relative, bool allowRoot)
    {
        var text = relative ?? string.Empty;
        if (text.Any(char.IsControl))
        {
            throw Refused(text, "it contains a control character");
        }

        if (text.StartsWith('/') || text.StartsWith('\\') || (text.Length >= 2 && text[1] == ':'))
        {
            throw Refused(text, "absolute paths are not allowed; paths are relative to the shared folder");
        }

        if (text.Contains('\\', StringComparison.Ordinal))
        {
            throw Refused(text, "use '/' between folders");
        }

        var parts = text.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Any(p => p is "." or ".."))
        {
            throw Refused(text, "'.' and '..' are not allowed");
        }

        if (parts.Length == 0 && !allowRoot)
        {
            throw Refused(text, "a file name is needed");
        }

        if (parts.Any(p => p.Length > 255) || text.Length > 4096)
        {
            throw Refused(text, "the name is too long");
        }

        var current = Root;
        for (var i = 0; i < parts.Length; i++)
        {
            current = Path.Combine(current, parts[i]);
            var info = new FileInfo(current);
            if (info.LinkTarget is not null)
            {
                throw Refused(text, $"'{string.Join('/', parts[..(i + 1)])}' is a symbolic link; links are not followed");
            }

            if (i < parts.Length - 1 && info.Exists)
            {
                throw Refused(text, $"'{string.Join('/', parts[..(i + 1)])}' is a file, not a folder");
            }
        }

        return current;
    }

    /// <summary>The path as the supporter gave it, normalised ('a//b/' → 'a/b'), for messages and the audit trail.</summary>
    public static string Display(string? relative) =>
        string.Join('/', (relative ?? string.Empty).Split('/', StringSplitOptions.RemoveEmptyEntries));

    private static FileTransferException Refused(string path, string why)
    {
        var shown = new string([.. (path.Length > 200 ? path[..200] : path).Select(c => char.IsControl(c) ? '?' : c)]);
        return new($"'{shown}' is refused: {why}");
    }
}
