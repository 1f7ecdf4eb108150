using System.Net.WebSockets;
using System.Text;
using PrivateServer.Protocol.Control;

namespace PrivateServer.Protocol.Tests.Control;

public sealed class ControlChannelTests
{
    [Fact]
    public void Parse_WhenMessageIsValid_ReturnsTheTypedMessage()
    {
        var json = """{"type":"session.answer","version":1,"sessionId":"se-1","accepted":true,"granted":["view","tunnel:screen"]}""";

        var message = ControlChannel.Parse(Encoding.UTF8.GetBytes(json));

        message.Should().BeEquivalentTo(new SessionAnswer("se-1", true, ["view", "tunnel:screen"], null));
    }

    [Fact]
    public void Parse_WhenTypeComesAfterOtherFields_StillReadsIt()
    {
        var json = """{"version":1,"sessionId":"se-2","reason":"stop","type":"session.stop"}""";

        var message = ControlChannel.Parse(Encoding.UTF8.GetBytes(json));

        message.Should().BeOfType<SessionStop>().Which.SessionId.Should().Be("se-2");
    }

    [Theory]
    [InlineData("""{"type":"hello","name":""", WebSocketCloseStatus.InvalidPayloadData)]
    [InlineData("""{"type":"shell.exec","version":1}""", WebSocketCloseStatus.InvalidPayloadData)]
    [InlineData("""{"version":1,"name":"x"}""", WebSocketCloseStatus.InvalidPayloadData)]
    [InlineData("""[1,2,3]""", WebSocketCloseStatus.InvalidPayloadData)]
    [InlineData("""null""", WebSocketCloseStatus.InvalidPayloadData)]
    [InlineData("""{"type":"heartbeat","version":2}""", WebSocketCloseStatus.PolicyViolation)]
    public void Parse_WhenMessageIsBad_ThrowsWithTheCloseStatusToAnswer(string json, WebSocketCloseStatus expected)
    {
        var parse = () => ControlChannel.Parse(Encoding.UTF8.GetBytes(json));

        parse.Should().Throw<ControlProtocolException>().Which.Status.Should().Be(expected);
    }

    [Fact]
    public void Parse_WhenFedRandomBytes_OnlyEverThrowsControlProtocolException()
    {
        var random = new Random(20261123);
        var seeds = new[] { """{"type":"session.request","version":1,"sessionId":"s","supporter":"a","supporterDisplayName":"A","permissions":["view"],"consent":"ask"}""" };
        for (var i = 0; i < 3000; i++)
        {
            var bytes = Encoding.UTF8.GetBytes(seeds[0]);
            for (var flips = random.Next(1, 6); flips > 0; flips--)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }

            try
            {
                ControlChannel.Parse(bytes);
            }
            catch (ControlProtocolException)
            {
                // Expected for most mutations.
            }
        }
    }

    [Fact]
    public async Task ReceiveAsync_WhenAMessageExceedsTheLimit_ThrowsMessageTooBig()
    {
        var (client, server) = await WebSocketPair.CreateAsync();
        using var channel = new ControlChannel(server);
        var big = Encoding.UTF8.GetBytes("{\"type\":\"heartbeat\",\"version\":1,\"pad\":\"" + new string('x', ControlChannel.MaximumMessageBytes) + "\"}");

        var send = client.SendAsync(big, WebSocketMessageType.Text, true, CancellationToken.None);
        var receive = () => channel.ReceiveAsync(CancellationToken.None);

        (await receive.Should().ThrowAsync<ControlProtocolException>()).Which.Status.Should().Be(WebSocketCloseStatus.MessageTooBig);
        client.Abort();
        await send.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    [Fact]
    public async Task SendAndReceive_RoundTripEveryMessageThroughARealWebSocket()
    {
        var (client, server) = await WebSocketPair.CreateAsync();
        using var sender = new ControlChannel(client);
        using var receiver = new ControlChannel(server);
        ControlMessage[] messages =
        [
            new HostHello("pc1", "Linux", "1.0.0", ["screen"]),
            new StreamOpen("se-1", "st-1", "screen", "ticket"),
            new Heartbeat(),
            new SessionEnded("se-1", "emergency stop"),
        ];

        var received = new List<ControlMessage?>();
        foreach (var message in messages)
        {
            await sender.SendAsync(message, CancellationToken.None);
            received.Add(await receiver.ReceiveAsync(CancellationToken.None));
        }

        received.Should().BeEquivalentTo(messages, options => options.RespectingRuntimeTypes());
    }
}
