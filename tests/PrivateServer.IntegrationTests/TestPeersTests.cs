using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>The real peers the other integration tests drive, proven on their own (no PrivateServer involved).</summary>
public sealed class TestPeersTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task RfbClient_WhenDisplayIsPaintedRed_ReadsRedThroughX11vnc()
    {
        using var deadline = TestDeadline.Start(60);
        await using var display = await XDisplay.StartAsync(deadline.Token);
        await display.PaintAsync("red", deadline.Token);

        await using var rfb = await RfbClient.ConnectAsync("127.0.0.1", display.VncPort, deadline.Token);
        var pixel = await rfb.ReadPixelAsync(10, 10, deadline.Token);

        pixel.Should().Be(((byte)255, (byte)0, (byte)0));
        rfb.Width.Should().Be(XDisplay.Width);
        rfb.Height.Should().Be(XDisplay.Height);
        rfb.Name.Should().NotBeEmpty();
        rfb.ServerPixelFormat.TrueColour.Should().BeTrue();
    }

    [Fact]
    public async Task RfbClient_WhenDisplayIsRepaintedWhileConnected_ReadsTheNewColour()
    {
        using var deadline = TestDeadline.Start(60);
        await using var display = await XDisplay.StartAsync(deadline.Token);
        await display.PaintAsync("red", deadline.Token);
        await using var rfb = await RfbClient.ConnectAsync("127.0.0.1", display.VncPort, deadline.Token);
        (await rfb.ReadPixelAsync(10, 10, deadline.Token)).Should().Be(((byte)255, (byte)0, (byte)0));

        await display.PaintAsync("#00ff00", deadline.Token);
        var pixel = await PollAsync(() => rfb.ReadPixelAsync(10, 10, deadline.Token), p => p == (0, 255, 0), deadline.Token);

        pixel.Should().Be(((byte)0, (byte)255, (byte)0), "x11vnc polls the screen, so the change shows within a few seconds");
    }

    [Fact]
    public async Task RfbClient_WhenPointerEventIsSent_MovesTheXPointer()
    {
        using var deadline = TestDeadline.Start(60);
        await using var display = await XDisplay.StartAsync(deadline.Token);
        await using var rfb = await RfbClient.ConnectAsync("127.0.0.1", display.VncPort, deadline.Token);

        await rfb.SendPointerAsync(123, 45, 0, deadline.Token);
        var pointer = await PollAsync(() => display.PointerAsync(deadline.Token), p => p == (123, 45), deadline.Token);

        pointer.Should().Be((123, 45));
    }

    [Fact]
    public async Task XDisplay_MovePointer_IsWhatPointerReports()
    {
        using var deadline = TestDeadline.Start(60);
        await using var display = await XDisplay.StartAsync(deadline.Token);

        await display.MovePointerAsync(200, 100, deadline.Token);

        (await display.PointerAsync(deadline.Token)).Should().Be((200, 100));
    }

    [Fact]
    public async Task RfbClient_WhenServerSpeaksAnotherVersion_FailsClearly()
    {
        using var deadline = TestDeadline.Start(60);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var server = ServeAsync(listener, "RFB 003.003\n"u8.ToArray(), deadline.Token);

        var connect = () => RfbClient.ConnectAsync("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port, deadline.Token);

        (await connect.Should().ThrowAsync<NotSupportedException>()).WithMessage("*RFB 003.003*003.008 only*");
        await server;
    }

    [Fact]
    public async Task RfbClient_WhenServerOffersNoSecurityType_FailsWithTheServersReason()
    {
        using var deadline = TestDeadline.Start(60);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        byte[] refusal = [.. "RFB 003.008\n"u8, 0, 0, 0, 0, 14, .. "Too many tries"u8];
        var server = ServeAsync(listener, refusal, deadline.Token);

        var connect = () => RfbClient.ConnectAsync("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port, deadline.Token);

        (await connect.Should().ThrowAsync<InvalidDataException>()).WithMessage("*no security type: Too many tries");
        await server;
    }

    [Fact]
    public async Task TinyProxy_WhenConnectToEchoServer_TunnelsAndLogsTheConnect()
    {
        using var deadline = TestDeadline.Start(60);
        await using var echo = EchoServer.Start();
        await using var proxy = await TinyProxy.StartAsync(deadline.Token);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", proxy.Port, deadline.Token);
        var stream = tcp.GetStream();
        var target = "127.0.0.1:" + echo.Port.ToString(CultureInfo.InvariantCulture);

        await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n"), deadline.Token);
        var head = await ReadHeadAsync(stream, deadline.Token);
        await stream.WriteAsync("hello through the proxy"u8.ToArray(), deadline.Token);
        var echoed = new byte["hello through the proxy".Length];
        await stream.ReadExactlyAsync(echoed, deadline.Token);

        head.Should().StartWith("HTTP/1.0 200");
        Encoding.ASCII.GetString(echoed).Should().Be("hello through the proxy");
        echo.Accepted.Should().Be(1);
        var log = await PollAsync(() => Task.FromResult(proxy.Log), l => l.Contains($"CONNECT {target}", StringComparison.Ordinal), deadline.Token);
        log.Should().Contain($"CONNECT {target} HTTP/1.1");
        proxy.Url.Should().Be("http://127.0.0.1:" + proxy.Port.ToString(CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task EchoServer_WhenSentOneMebibyte_ReturnsItByteExact()
    {
        using var deadline = TestDeadline.Start(60);
        await using var echo = EchoServer.Start();
        var payload = RandomNumberGenerator.GetBytes(1024 * 1024);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", echo.Port, deadline.Token);

        var received = await RoundTripAsync(tcp, payload, deadline.Token);

        received.Should().Equal(payload);
    }

    [Fact]
    public async Task EchoServer_WhenManyClientsAtOnce_EchoesEachItsOwnBytes()
    {
        using var deadline = TestDeadline.Start(60);
        await using var echo = EchoServer.Start();

        var results = await Task.WhenAll(Enumerable.Range(0, 32).Select(async _ =>
        {
            var payload = RandomNumberGenerator.GetBytes(64 * 1024);
            using var tcp = new TcpClient();
            await tcp.ConnectAsync("127.0.0.1", echo.Port, deadline.Token);
            return (Sent: payload, Received: await RoundTripAsync(tcp, payload, deadline.Token));
        }));

        results.Should().AllSatisfy(r => r.Received.Should().Equal(r.Sent));
        echo.Accepted.Should().Be(32);
    }

    /// <summary>Writes the payload and half-closes while reading concurrently (no socket-buffer deadlock), up to end of stream.</summary>
    private static async Task<byte[]> RoundTripAsync(TcpClient tcp, byte[] payload, CancellationToken cancellationToken)
    {
        var stream = tcp.GetStream();
        var writing = Task.Run(
            async () =>
            {
                await stream.WriteAsync(payload, cancellationToken);
                tcp.Client.Shutdown(SocketShutdown.Send);
            },
            cancellationToken);
        using var received = new MemoryStream();
        await stream.CopyToAsync(received, cancellationToken);
        await writing;
        return received.ToArray();
    }

    /// <summary>Reads an HTTP response head byte by byte, so no tunnelled byte is consumed.</summary>
    private static async Task<string> ReadHeadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            await stream.ReadExactlyAsync(one, cancellationToken);
            head.Append((char)one[0]);
        }

        return head.ToString();
    }

    /// <summary>A scripted RFB server for one connection: sends the bytes, then waits for the client to hang up.</summary>
    private static async Task ServeAsync(TcpListener listener, byte[] script, CancellationToken cancellationToken)
    {
        using var client = await listener.AcceptTcpClientAsync(cancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync(script, cancellationToken);
        try
        {
            await stream.CopyToAsync(Stream.Null, cancellationToken);
        }
        catch (IOException)
        {
            // The client reset the connection.
        }
    }

    /// <summary>Asks until the answer is the expected one or a few seconds pass; returns the last answer.</summary>
    private static async Task<T> PollAsync<T>(Func<Task<T>> ask, Func<T, bool> expected, CancellationToken cancellationToken)
    {
        var until = DateTime.UtcNow + Settle;
        while (true)
        {
            var answer = await ask();
            if (expected(answer) || DateTime.UtcNow >= until)
            {
                return answer;
            }

            await Task.Delay(50, cancellationToken);
        }
    }
}
