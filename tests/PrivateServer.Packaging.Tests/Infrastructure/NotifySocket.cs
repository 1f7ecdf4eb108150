using System.Net.Sockets;
using System.Text;

namespace PrivateServer.Packaging.Tests.Infrastructure;

/// <summary>
/// systemd's side of sd_notify: a Unix datagram socket whose path goes to the service in NOTIFY_SOCKET;
/// it collects what the service reports (READY=1, STOPPING=1...).
/// </summary>
public sealed class NotifySocket : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly List<string> _messages = [];

    public NotifySocket(string path)
    {
        Path = path;
        _socket.Bind(new UnixDomainSocketEndPoint(path));
    }

    public string Path { get; }

    /// <summary>Waits until a datagram carries the line <paramref name="line"/>; returns every line received so far.</summary>
    public async Task<IReadOnlyList<string>> WaitForAsync(string line, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        while (!_messages.Contains(line))
        {
            var length = await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            _messages.AddRange(Encoding.UTF8.GetString(buffer, 0, length).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }

        return [.. _messages];
    }

    public void Dispose() => _socket.Dispose();
}
