using System.Buffers;
using System.Net.Sockets;

namespace PrivateServer.IntegrationTests.Infrastructure;

/// <summary>
/// A TCP echo service on 127.0.0.1:&lt;free port&gt;: every connection gets back what it sends, through
/// one pooled buffer per connection; when the client ends its sending side the echo ends too.
/// </summary>
public sealed class EchoServer : IAsyncDisposable
{
    private const int BufferLength = 64 * 1024;

    private readonly LoopbackListener _listener = new(EchoAsync);

    public int Port => _listener.Port;

    /// <summary>How many connections were accepted so far.</summary>
    public int Accepted => _listener.Accepted;

    public static EchoServer Start() => new();

    public ValueTask DisposeAsync() => _listener.DisposeAsync();

    private static async Task EchoAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferLength);
        try
        {
            socket.NoDelay = true;
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    socket.Shutdown(SocketShutdown.Send);
                    return;
                }

                for (var sent = 0; sent < read;)
                {
                    sent += await socket.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None, cancellationToken);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The client went away or the server is stopping.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            socket.Dispose();
        }
    }
}
