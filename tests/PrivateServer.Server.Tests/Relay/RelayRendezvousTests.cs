using PrivateServer.Server.Relay;

namespace PrivateServer.Server.Tests.Relay;

public sealed class RelayRendezvousTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Take_ByTheIdentityItWasIssuedTo_WorksOnce()
    {
        var rendezvous = new RelayRendezvous();
        var (stream, hostTicket, supporterTicket) = rendezvous.Create("se-1", "screen", "h-1", "alice", Now, CancellationToken.None);

        var host = rendezvous.Take(hostTicket, RelaySide.Host, "h-1", Now);
        var supporter = rendezvous.Take(supporterTicket!, RelaySide.Supporter, "alice", Now);
        var replay = rendezvous.Take(supporterTicket!, RelaySide.Supporter, "alice", Now);

        host.Should().NotBeNull();
        host!.Value.Stream.Should().BeSameAs(stream);
        supporter!.Value.Side.Should().Be(RelaySide.Supporter);
        replay.Should().BeNull("a ticket is good for one use");
    }

    [Theory]
    [InlineData(RelaySide.Supporter, "mallory")]
    [InlineData(RelaySide.Host, "alice")]
    [InlineData(RelaySide.Host, "h-2")]
    public void Take_ByAnotherIdentityOrSide_IsRefusedAndBurnsTheTicket(RelaySide side, string identity)
    {
        var rendezvous = new RelayRendezvous();
        var (stream, _, supporterTicket) = rendezvous.Create("se-1", "screen", "h-1", "alice", Now, CancellationToken.None);

        var stolen = rendezvous.Take(supporterTicket!, side, identity, Now);
        var owner = rendezvous.Take(supporterTicket!, RelaySide.Supporter, "alice", Now);

        stolen.Should().BeNull();
        owner.Should().BeNull();
        stream.FailureReason.Should().NotBeNull("the stream fails cleanly instead of waiting");
    }

    [Fact]
    public void Take_AfterThePairingWindow_IsRefused()
    {
        var rendezvous = new RelayRendezvous();
        var (_, hostTicket, _) = rendezvous.Create("se-1", "screen", "h-1", "alice", Now, CancellationToken.None);

        var late = rendezvous.Take(hostTicket, RelaySide.Host, "h-1", Now + RelayRendezvous.PairingTimeout + TimeSpan.FromSeconds(1));

        late.Should().BeNull();
    }
}
