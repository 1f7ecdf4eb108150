using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using PrivateServer.SupporterModule.Session;

namespace PrivateServer.SupporterModule.Tests.Session;

/// <summary>The clipboard verb's RFB client against a scripted RFB server on loopback (the real x11vnc is in the integration tests).</summary>
public sealed class RfbClipboardTests
{
    private static readonly byte[] ServerInit = [0, 8, 0, 8, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0, 0, 0, 0, 2, (byte)'p', (byte)'c'];

    [Fact]
    public void ToLatin1_KeepsLatin1AndReplacesTheRest()
    {
        var (bytes, replaced) = RfbClipboard.ToLatin1("Grüße, 5 € ✓");

        Encoding.Latin1.GetString(bytes).Should().Be("Grüße, 5 ? ?");
        replaced.Should().Be(2);
    }

    [Fact]
    public async Task SendAsync_SendsClientCutTextAndReturnsOnceTheServerAnsweredTheUpdateAfterIt()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        byte[]? received = null;

        var sent = await WithServerAsync(
            async (server, token) =>
            {
                await HandshakeAsync(server, [1], token);
                await ReadAsync(server, 20 + 8, token); // SetPixelFormat, SetEncodings Raw
                var header = await ReadAsync(server, 8, token);
                header[0].Should().Be(6);
                received = await ReadAsync(server, BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4)), token);
                (await ReadAsync(server, 10, token))[0].Should().Be(3, "an update request follows the text");
                // A bell and the host's clipboard first, then the 1x1 update in Raw.
                await server.WriteAsync(new byte[] { 2, 3, 0, 0, 0, 0, 0, 0, 1, (byte)'x', 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4 }, token);
            },
            (client, token) => RfbClipboard.SendAsync(client, Encoding.Latin1.GetBytes("Grüße"), token),
            deadline.Token);

        sent.Should().Be(5);
        Encoding.Latin1.GetString(received!).Should().Be("Grüße");
    }

    [Fact]
    public async Task WatchAsync_HandsOverEachTextTheHostCopies_UntilTold()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var texts = new List<string>();

        await WithServerAsync(
            async (server, token) =>
            {
                await HandshakeAsync(server, [2, 1], token);
                await ReadAsync(server, 28, token);
                await server.WriteAsync(CutText("first"), token);
                await server.WriteAsync(new byte[] { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0 }, token); // SetColourMapEntries, one colour
                await server.WriteAsync(CutText("zwei ä"), token);
            },
            async (client, token) =>
            {
                await RfbClipboard.WatchAsync(client, text => { texts.Add(text); return Task.FromResult(texts.Count < 2); }, token);
                return 0;
            },
            deadline.Token);

        texts.Should().Equal("first", "zwei ä");
    }

    [Fact]
    public async Task WatchAsync_WhenTheServerWantsAPassword_SaysSo()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        var act = () => WithServerAsync(
            async (server, token) =>
            {
                await server.WriteAsync("RFB 003.008\n"u8.ToArray(), token);
                await ReadAsync(server, 12, token);
                await server.WriteAsync(new byte[] { 1, 2 }, token);
            },
            async (client, token) =>
            {
                await RfbClipboard.WatchAsync(client, _ => Task.FromResult(true), token);
                return 0;
            },
            deadline.Token);

        (await act.Should().ThrowAsync<IOException>()).Which.Message.Should().Contain("asks for a password");
    }

    [Fact]
    public async Task WatchAsync_WhenTheHostsClipboardIsLargerThanOneMebibyte_RefusesIt()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        var act = () => WithServerAsync(
            async (server, token) =>
            {
                await HandshakeAsync(server, [1], token);
                await ReadAsync(server, 28, token);
                await server.WriteAsync(CutText(new string('a', RfbClipboard.MaxTextLength + 1)), token);
            },
            async (client, token) =>
            {
                await RfbClipboard.WatchAsync(client, _ => Task.FromResult(true), token);
                return 0;
            },
            deadline.Token);

        (await act.Should().ThrowAsync<IOException>()).Which.Message.Should().Be("the host's clipboard holds 1048577 bytes; more than 1048576 are not taken");
    }

    private static async Task<T> WithServerAsync<T>(Func<Stream, CancellationToken, Task> server, Func<Stream, CancellationToken, Task<T>> client, CancellationToken cancellationToken)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port, cancellationToken);
        using var accepted = await listener.AcceptTcpClientAsync(cancellationToken);
        var serving = server(accepted.GetStream(), cancellationToken);
        try
        {
            return await client(tcp.GetStream(), cancellationToken);
        }
        finally
        {
            await serving;
        }
    }

    private static async Task HandshakeAsync(Stream server, byte[] securityTypes, CancellationToken cancellationToken)
    {
        await server.WriteAsync("RFB 003.008\n"u8.ToArray(), cancellationToken);
        Encoding.ASCII.GetString(await ReadAsync(server, 12, cancellationToken)).Should().Be("RFB 003.008\n");
        await server.WriteAsync(new[] { (byte)securityTypes.Length }.Concat(securityTypes).ToArray(), cancellationToken);
        (await ReadAsync(server, 1, cancellationToken))[0].Should().Be(1, "the client chooses None");
        await server.WriteAsync(new byte[4], cancellationToken);
        (await ReadAsync(server, 1, cancellationToken))[0].Should().Be(1, "ClientInit: shared");
        await server.WriteAsync(ServerInit, cancellationToken);
    }

    private static byte[] CutText(string text)
    {
        var bytes = Encoding.Latin1.GetBytes(text);
        var message = new byte[8 + bytes.Length];
        message[0] = 3;
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(4), bytes.Length);
        bytes.CopyTo(message, 8);
        return message;
    }

    private static async Task<byte[]> ReadAsync(Stream stream, int count, CancellationToken cancellationToken)
    {
        var bytes = new byte[count];
        await stream.ReadExactlyAsync(bytes, cancellationToken);
        return bytes;
    }
}
