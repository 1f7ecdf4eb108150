using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using PrivateServer.Protocol.Relay;
using PrivateServer.Server.Web.Console;

namespace PrivateServer.Server.Tests.Web;

/// <summary>
/// A browser's relay WebSocket when the host's half ends right after writing (a system-information report): the pump
/// cancels the browser's read, and the browser must still get every byte and then a proper close — not an abort.
/// </summary>
public sealed class GracefulWebSocketStreamTests
{
    [Fact]
    public async Task WhenTheHostEndsFirst_TheBrowserGetsEveryByteAndANormalClose()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var (serverSocket, browser) = await PairAsync(deadline.Token);
        using var _ = serverSocket;
        using var __ = browser;
        var report = new byte[200_000];
        Random.Shared.NextBytes(report);

        var received = new MemoryStream();
        var browsing = Task.Run(async () =>
        {
            var buffer = new byte[16 * 1024];
            while (true)
            {
                var result = await browser.ReceiveAsync(buffer, deadline.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", deadline.Token);
                    return result;
                }

                received.Write(buffer, 0, result.Count);
            }
        }, deadline.Token);

        await using (var inner = WebSocketStream.Create(serverSocket, WebSocketMessageType.Binary, ownsWebSocket: false))
        await using (var graceful = new GracefulWebSocketStream(serverSocket, inner))
        {
            var relayed = await RelayPump.RunAsync(graceful, new MemoryStream(report), deadline.Token);
            relayed.EndedBy.Should().Be(RelayEnd.SideB, "the host's half ended first");
        }

        var closed = await browsing;

        received.ToArray().Should().Equal(report);
        closed.CloseStatus.Should().Be(WebSocketCloseStatus.NormalClosure);
        browser.State.Should().Be(WebSocketState.Closed, "a close handshake, not an abort");
    }

    /// <summary>A server and a client WebSocket over a real loopback TCP connection.</summary>
    private static async Task<(WebSocket Server, WebSocket Client)> PairAsync(CancellationToken cancellationToken)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port, cancellationToken);
        var server = await listener.AcceptTcpClientAsync(cancellationToken);
        return (
            WebSocket.CreateFromStream(server.GetStream(), isServer: true, subProtocol: null, keepAliveInterval: TimeSpan.Zero),
            WebSocket.CreateFromStream(client.GetStream(), isServer: false, subProtocol: null, keepAliveInterval: TimeSpan.Zero));
    }
}
