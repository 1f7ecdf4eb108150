using System.Net;
using System.Net.Sockets;

namespace PrivateServer.IntegrationTests.Infrastructure;

/// <summary>
/// A TCP listener on 127.0.0.1:&lt;free port&gt; that serves every connection it accepts with <c>serve</c>, counts them,
/// and on dispose stops accepting, cancels the connections' token and waits for them: the peers the tests start.
/// </summary>
public sealed class LoopbackListener : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<Socket, CancellationToken, Task> _serve;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _connections = [];
    private readonly Task _acceptLoop;
    private int _accepted;

    /// <summary>Listens at once; <paramref name="serve"/> owns the accepted socket.</summary>
    public LoopbackListener(Func<Socket, CancellationToken, Task> serve, int backlog = 512)
    {
        _serve = serve;
        _listener.Start(backlog);
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>How many connections were accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync();
        _listener.Stop();
        await _acceptLoop;
        Task[] connections;
        lock (_connections)
        {
            connections = [.. _connections];
        }

        await Task.WhenAll(connections);
        _listener.Dispose();
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            var connection = ServeAsync(socket);
            lock (_connections)
            {
                _connections.RemoveAll(c => c.IsCompleted);
                _connections.Add(connection);
            }
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        // Off the accept loop: the next connection is accepted while this one is served.
        await Task.Yield();
        await _serve(socket, _stopping.Token);
    }
}
