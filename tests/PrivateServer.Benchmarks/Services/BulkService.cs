using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace PrivateServer.Benchmarks.Services;

/// <summary>
/// The TCP service on the "host" side of the throughput runs, on 127.0.0.1: a connection starts
/// with one mode byte and an 8-byte length. 'U' (upload): the service reads that many bytes and
/// answers one byte. 'D' (download): it sends that many bytes, then waits for the client to close.
/// The same service answers the direct, SSH and relay runs, so only the path between differs.
/// </summary>
internal sealed class BulkService : IAsyncDisposable
{
    public const int ChunkLength = 1024 * 1024;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly byte[] _payload = RandomPayload();
    private readonly Task _accepting;

    public BulkService()
    {
        _listener.Start(backlog: 64);
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Incompressible bytes, so that no layer can cheat.</summary>
    public static byte[] RandomPayload()
    {
        var bytes = new byte[ChunkLength];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Client side: sends <paramref name="bytes"/> to the service at <paramref name="port"/> and waits for its receipt.</summary>
    public static async Task<TimeSpan> UploadAsync(int port, long bytes, byte[] payload, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var socket = await ConnectAsync(port, cancellationToken);
        await SendHeaderAsync(socket, (byte)'U', bytes, cancellationToken);
        for (var left = bytes; left > 0;)
        {
            var count = (int)Math.Min(left, payload.Length);
            await socket.SendAsync(payload.AsMemory(0, count), cancellationToken);
            left -= count;
        }

        var receipt = new byte[1];
        if (await socket.ReceiveAsync(receipt, cancellationToken) != 1)
        {
            throw new IOException("the bulk service closed before confirming the upload");
        }

        return clock.Elapsed;
    }

    /// <summary>Client side: asks the service for <paramref name="bytes"/> and reads them all.</summary>
    public static async Task<TimeSpan> DownloadAsync(int port, long bytes, byte[] buffer, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var socket = await ConnectAsync(port, cancellationToken);
        await SendHeaderAsync(socket, (byte)'D', bytes, cancellationToken);
        for (var left = bytes; left > 0;)
        {
            var read = await socket.ReceiveAsync(buffer, cancellationToken);
            if (read == 0)
            {
                throw new IOException($"the download ended {left} bytes early");
            }

            left -= read;
        }

        return clock.Elapsed;
    }

    private static async Task<Socket> ConnectAsync(int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
        return socket;
    }

    private static async Task SendHeaderAsync(Socket socket, byte mode, long bytes, CancellationToken cancellationToken)
    {
        var header = new byte[9];
        header[0] = mode;
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(1), bytes);
        await socket.SendAsync(header, cancellationToken);
    }

    private async Task AcceptAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stopping.Token);
                socket.NoDelay = true;
                connections.Add(ServeAsync(socket, _stopping.Token));
                connections.RemoveAll(t => t.IsCompleted);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }

        await Task.WhenAll(connections);
    }

    private async Task ServeAsync(Socket socket, CancellationToken cancellationToken)
    {
        using (socket)
        {
            try
            {
                var header = new byte[9];
                for (var got = 0; got < header.Length;)
                {
                    var read = await socket.ReceiveAsync(header.AsMemory(got), cancellationToken);
                    if (read == 0)
                    {
                        return;
                    }

                    got += read;
                }

                var bytes = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(1));
                if (header[0] == 'U')
                {
                    var buffer = new byte[ChunkLength];
                    for (var left = bytes; left > 0;)
                    {
                        var read = await socket.ReceiveAsync(buffer.AsMemory(0, (int)Math.Min(left, buffer.Length)), cancellationToken);
                        if (read == 0)
                        {
                            return;
                        }

                        left -= read;
                    }

                    await socket.SendAsync(new byte[] { 1 }, cancellationToken);
                }
                else
                {
                    for (var left = bytes; left > 0;)
                    {
                        var count = (int)Math.Min(left, _payload.Length);
                        await socket.SendAsync(_payload.AsMemory(0, count), cancellationToken);
                        left -= count;
                    }
                }

                // Wait for the client to close: the relay ends a stream when either side does.
                await socket.ReceiveAsync(new byte[1], cancellationToken);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException or IOException)
            {
                // The client went away.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stopping.Dispose();
    }
}
