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

    private static readonly string[] FuzzSeeds =
    [
        """{"type":"session.request","version":1,"sessionId":"s","supporter":"a","supporterDisplayName":"A","permissions":["view"],"consent":"ask"}""",
        """{"type":"session.connect","version":1,"host":"pc","permissions":["view","control"],"optional":["chat"],"session":"se-AbCdEfGhIjKlMnOpQrSt"}""",
        """{"type":"stream.request","version":1,"requestId":"screen-1","service":"screen"}""",
        """{"type":"chat.message","version":1,"sessionId":"se-1","from":"alice","text":"hello","at":"2026-11-29T10:00:00Z"}""",
        """{"type":"file.transferred","version":1,"sessionId":"se-1","direction":"to-host","path":"a/b.txt","size":12,"sha256":"00"}""",
        """{"type":"session.answer","version":1,"sessionId":"se-1","accepted":true,"granted":["view","tunnel:screen"],"termsSha256":"ab"}""",
        """{"type":"script.result","version":1,"sessionId":"se-1","runId":"sr-1","ran":true,"exitCode":0,"stdout":"x","stderr":"","timedOut":false,"truncated":false}""",
    ];

    [Fact]
    [Trait("Category", "Fuzz")]
    public void Parse_WhenFedMutatedMessages_OnlyEverThrowsControlProtocolException()
    {
        Fuzz.Run(20261123, 5000, random =>
        {
            var bytes = Mutate(random, Encoding.UTF8.GetBytes(FuzzSeeds[random.Next(FuzzSeeds.Length)]));
            try
            {
                ControlChannel.Parse(bytes);
            }
            catch (ControlProtocolException)
            {
                // The answer to garbage: the channel closes with a status, nothing else breaks.
            }
        });
    }

    /// <summary>Byte flips, cuts, repeated slices, deep nesting and long numbers: what a broken or hostile peer sends.</summary>
    private static byte[] Mutate(Random random, byte[] bytes)
    {
        switch (random.Next(5))
        {
            case 0:
                for (var flips = random.Next(1, 6); flips > 0; flips--)
                {
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                }

                return bytes;
            case 1:
                return bytes[..random.Next(bytes.Length)];
            case 2:
                var at = random.Next(bytes.Length);
                var slice = bytes[at..Math.Min(bytes.Length, at + random.Next(1, 40))];
                return [.. bytes[..at], .. slice, .. slice, .. bytes[at..]];
            case 3:
                var depth = random.Next(1, 200);
                var nested = Encoding.UTF8.GetBytes(new string('[', depth) + new string(']', depth));
                var field = Encoding.UTF8.GetBytes(",\"pad\":");
                return [.. bytes[..^1], .. field, .. nested, (byte)'}'];
            default:
                var number = Encoding.UTF8.GetBytes(",\"size\":" + new string('9', random.Next(1, 400)));
                return [.. bytes[..^1], .. number, (byte)'}'];
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
