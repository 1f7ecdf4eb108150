using System.Net.WebSockets;
using PrivateServer.Protocol.Control;
using PrivateServer.Server.Broker;
using PrivateServer.Server.Hosts;

namespace PrivateServer.Server.Tests.Broker;

public sealed class HostConnectionTests
{
    [Fact]
    public async Task AskAsync_AnswerThenChannelClosedAtOnce_GivesTheAnswer()
    {
        using var connection = Connection();
        var asking = connection.AskAsync(new SessionRequest("se-1", "alice", "Alice", ["view"], "ask"), CancellationToken.None);
        asking.IsCompleted.Should().BeFalse("the request is out and waits for the host");

        // What the channel's reader does when an ad-hoc customer refuses and leaves: the answer, then the close.
        connection.Answer("se-1", new SessionAnswer("se-1", Accepted: false, [], "the user refused")).Should().BeTrue();
        connection.Close("the host went offline");
        var answer = await asking.WaitAsync(TimeSpan.FromSeconds(10));

        answer.Should().NotBeNull("the refusal came before the host left, so the supporter must hear it, not 'went offline'");
        answer!.Reason.Should().Be("the user refused");
    }

    [Fact]
    public async Task AskAsync_ChannelClosedWithoutAnswer_GivesNull()
    {
        using var connection = Connection();
        var asking = connection.AskAsync(new SessionRequest("se-2", "alice", "Alice", ["view"], "ask"), CancellationToken.None);

        connection.Close("the host went offline");

        (await asking.WaitAsync(TimeSpan.FromSeconds(10))).Should().BeNull();
    }

    private static HostConnection Connection()
    {
        var record = new HostRecord("h-1", "carol-pc", "support", string.Empty, string.Empty, DateTimeOffset.UnixEpoch, null, null, null, [], null);
        var channel = new ControlChannel(WebSocket.CreateFromStream(new MemoryStream(), new WebSocketCreationOptions { IsServer = true }));
        return new HostConnection(record, new HostHello("carol-pc", "x", "x", []), channel, CancellationToken.None);
    }
}
