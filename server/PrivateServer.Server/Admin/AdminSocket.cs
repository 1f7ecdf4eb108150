using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Admin;

/// <summary>
/// The local admin socket: a Unix domain socket in the data folder (mode 0600, folder 0700) on
/// which admin verbs reach the running server. Only connections accepted on it carry the
/// <see cref="IAdminSocketConnection"/> marker, and only marked requests reach the admin API.
/// </summary>
public static class AdminSocket
{
    /// <summary>Unix socket paths are limited to 108 bytes including the terminator.</summary>
    private const int MaximumPathLength = 100;

    public static void ListenAdminSocket(this KestrelServerOptions kestrel, string path)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        kestrel.ListenUnixSocket(path, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            listen.Use(next => connection =>
            {
                connection.Features.Set<IAdminSocketConnection>(AdminSocketConnection.Instance);
                return next(connection);
            });
        });
    }

    /// <summary>True when the request arrived on the admin socket.</summary>
    public static bool IsAdminSocketRequest(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Features.Get<IAdminSocketConnection>() is not null;
    }

    /// <summary>
    /// Makes sure no other server owns the folder's socket and removes a stale socket file left by
    /// a crash. Throws <see cref="DataFolderException"/> when a server answers on it.
    /// </summary>
    public static async Task ClaimAsync(DataFolder folder, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var path = folder.AdminSocketPath;
        if (path.Length > MaximumPathLength)
        {
            throw new DataFolderException($"the data folder path {folder.Root} is too long for its admin socket; use a shorter path");
        }

        if (!File.Exists(path))
        {
            return;
        }

        if (await IsAnsweringAsync(path, cancellationToken))
        {
            throw new DataFolderException($"another privateserver is already running on the data folder {folder.Root}");
        }

        File.Delete(path);
    }

    /// <summary>Restricts the socket file to its owner once Kestrel has created it.</summary>
    public static void RestrictToOwner(string path)
    {
        if (!OperatingSystem.IsWindows() && File.Exists(path))
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    public static async Task<bool> IsAnsweringAsync(string path, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private sealed class AdminSocketConnection : IAdminSocketConnection
    {
        public static readonly AdminSocketConnection Instance = new();
    }
}

/// <summary>Marks a connection accepted on the admin socket.</summary>
public interface IAdminSocketConnection;
