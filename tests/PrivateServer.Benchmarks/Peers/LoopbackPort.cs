using System.Net;
using System.Net.Sockets;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.Benchmarks.Peers;

/// <summary>Waits for a child program's listener on 127.0.0.1.</summary>
internal static class LoopbackPort
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// A local forward port must be free before a peer starts listening there: a connection accepted by somebody
    /// else's listener would look like a working tunnel.
    /// </summary>
    public static void ThrowIfTaken(int port)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new InvalidOperationException($"127.0.0.1:{port} is already in use; the peer could not listen there.", e);
        }
    }

    /// <summary>
    /// Returns once <paramref name="port"/> accepts a connection and <paramref name="handshake"/>, if
    /// any, succeeds on it; the probe connection is closed again.
    /// </summary>
    public static async Task WaitUntilAcceptingAsync(
        int port,
        ChildProcess owner,
        string name,
        TimeSpan deadline,
        CancellationToken cancellationToken,
        Func<Socket, CancellationToken, Task>? handshake = null)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(deadline > TimeSpan.Zero ? deadline : TimeSpan.Zero);
        try
        {
            using var socket = await ConnectWhenListeningAsync(port, owner, name, PollInterval, timeout.Token);
            if (handshake is not null)
            {
                await handshake(socket, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{name} did not accept connections on 127.0.0.1:{port} in time:\n{owner.Stderr}");
        }
    }

    /// <summary>Connects to <paramref name="port"/>, retrying every <paramref name="retryInterval"/> while nothing listens and the owner still runs.</summary>
    public static async Task<Socket> ConnectWhenListeningAsync(
        int port, ChildProcess owner, string name, TimeSpan retryInterval, CancellationToken cancellationToken)
    {
        var endpoint = new IPEndPoint(IPAddress.Loopback, port);
        while (true)
        {
            if (owner.HasExited)
            {
                var result = await owner.WaitForExitAsync(cancellationToken);
                throw new InvalidOperationException(
                    $"{name} exited with {result.ExitCode} before 127.0.0.1:{port} accepted connections:\n{result.Stderr}");
            }

            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(endpoint, cancellationToken);
                return socket;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
            {
                socket.Dispose();
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            await Task.Delay(retryInterval, cancellationToken);
        }
    }
}
