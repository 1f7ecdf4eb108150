using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;

namespace PrivateServer.Protocol.Tests.Control;

/// <summary>Two ends of a real WebSocket over a loopback TCP connection.</summary>
internal static class WebSocketPair
{
    public static async Task<(WebSocket Client, WebSocket Server)> CreateAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var connect = new TcpClient();
        await connect.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        var accepted = await listener.AcceptTcpClientAsync();
        var client = WebSocket.CreateFromStream(connect.GetStream(), new WebSocketCreationOptions { IsServer = false });
        var server = WebSocket.CreateFromStream(accepted.GetStream(), new WebSocketCreationOptions { IsServer = true });
        return (client, server);
    }
}
