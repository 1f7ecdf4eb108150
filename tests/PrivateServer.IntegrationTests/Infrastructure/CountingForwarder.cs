using System.Net;
using System.Net.Sockets;

namespace PrivateServer.IntegrationTests.Infrastructure;

/// <summary>
/// A TCP forwarder on 127.0.0.1:&lt;free port&gt; to another local port that counts the connections it forwarded: how many
/// connections (and so TCP and TLS handshakes) a module opens to the appliance.
/// </summary>
public sealed class CountingForwarder : IAsyncDisposable
{
    private readonly int _target;
    private readonly LoopbackListener _listener;

    private CountingForwarder(int target)
    {
        _target = target;
        _listener = new LoopbackListener(ForwardAsync);
    }

    public int Port => _listener.Port;

    /// <summary>How many connections were forwarded so far.</summary>
    public int Accepted => _listener.Accepted;

    public static CountingForwarder Start(int targetPort) => new(targetPort);

    public ValueTask DisposeAsync() => _listener.DisposeAsync();

    private async Task ForwardAsync(Socket accepted, CancellationToken stopping)
    {
        using var client = accepted;
        using var server = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, _target, stopping);
            await using var near = new NetworkStream(client, ownsSocket: false);
            await using var far = new NetworkStream(server, ownsSocket: false);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            var up = near.CopyToAsync(far, either.Token);
            var down = far.CopyToAsync(near, either.Token);
            await Task.WhenAny(up, down);
            await either.CancelAsync();
            await Task.WhenAll(up, down);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // One side went away: both close.
        }
    }
}
