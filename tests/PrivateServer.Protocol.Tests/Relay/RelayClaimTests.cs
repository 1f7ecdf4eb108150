using System.Net;
using System.Net.Sockets;
using System.Text;
using PrivateServer.Protocol.Relay;

namespace PrivateServer.Protocol.Tests.Relay;

public sealed class RelayClaimTests : IAsyncLifetime, IDisposable
{
    private readonly CancellationTokenSource _deadline = new(TimeSpan.FromSeconds(30));
    private NetworkStream _module = null!;
    private NetworkStream _server = null!;

    public async Task InitializeAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint, _deadline.Token);
        var accepted = await listener.AcceptSocketAsync(_deadline.Token);
        _module = new NetworkStream(client, ownsSocket: true);
        _server = new NetworkStream(accepted, ownsSocket: true);
    }

    public async Task DisposeAsync()
    {
        await _module.DisposeAsync();
        await _server.DisposeAsync();
        _deadline.Dispose();
    }

    public void Dispose()
    {
        _module.Dispose();
        _server.Dispose();
        _deadline.Dispose();
    }

    [Fact]
    public async Task Claim_WhenTheServerAccepts_LeavesTheStreamForTheRelayedBytes()
    {
        var claiming = RelayClaim.ClaimAsync(_module, "ticket-abc_DEF-123", _deadline.Token);

        var ticket = (await RelayClaim.ReadClaimAsync(_server, _deadline.Token))?.Ticket;
        await _server.WriteAsync(new[] { RelayClaim.Accepted, (byte)'x' }, _deadline.Token);
        await claiming;
        var first = new byte[1];
        await _module.ReadExactlyAsync(first, _deadline.Token);

        ticket.Should().Be("ticket-abc_DEF-123");
        first[0].Should().Be((byte)'x', "the status byte is consumed by the claim, nothing else");
    }

    [Fact]
    public async Task Claim_WhenTheServerRefusesAndCloses_ThrowsRelayClaimException()
    {
        var claiming = RelayClaim.ClaimAsync(_module, "used-ticket", _deadline.Token);

        await RelayClaim.ReadClaimAsync(_server, _deadline.Token);
        await _server.WriteAsync(new[] { RelayClaim.Refused }, _deadline.Token);
        _server.Socket.Shutdown(SocketShutdown.Send);

        await FluentActions.Awaiting(() => claiming).Should().ThrowAsync<RelayClaimException>().WithMessage("*refused*");
    }

    [Fact]
    public async Task Request_IsReadAsASessionAndService_AndAcceptedLikeATicket()
    {
        var requesting = RelayClaim.RequestAsync(_module, "se-AbC_12-xyz", "vnc", _deadline.Token);

        var line = await RelayClaim.ReadClaimAsync(_server, _deadline.Token);
        await _server.WriteAsync(new[] { RelayClaim.Accepted }, _deadline.Token);
        await requesting;

        line.Should().Be(new RelayClaimLine(null, "se-AbC_12-xyz", "vnc"));
    }

    [Fact]
    public async Task Request_WhenRefusedWithAReason_ThrowsWithThatReason()
    {
        var requesting = RelayClaim.RequestAsync(_module, "se-1", "vnc", _deadline.Token);

        await RelayClaim.ReadClaimAsync(_server, _deadline.Token);
        await _server.WriteAsync(RelayClaim.Refusal("this session has 32 streams open,\nthe most allowed"), _deadline.Token);

        await FluentActions.Awaiting(() => requesting).Should().ThrowAsync<RelayClaimException>()
            .WithMessage("this session has 32 streams open, the most allowed", "a line break in a reason cannot end it early");
    }

    [Fact]
    public async Task Claim_WhenTheServerClosesUnanswered_ThrowsEndOfStream()
    {
        var claiming = RelayClaim.ClaimAsync(_module, "spare-gone", _deadline.Token);

        await RelayClaim.ReadClaimAsync(_server, _deadline.Token);
        _server.Socket.Shutdown(SocketShutdown.Send);

        await FluentActions.Awaiting(() => claiming).Should().ThrowAsync<EndOfStreamException>();
    }

    [Theory]
    [InlineData("too long")]
    [InlineData("bytes after the line")]
    [InlineData("control characters")]
    [InlineData("empty line")]
    [InlineData("ticket too long")]
    [InlineData("unknown verb")]
    [InlineData("no service")]
    [InlineData("bad service name")]
    public async Task ReadClaim_WithAGarbledLine_ThrowsWithoutWaitingForMore(string garbage)
    {
        var bytes = garbage switch
        {
            "too long" => Encoding.ASCII.GetBytes(new string('a', RelayClaim.MaximumLineLength + 1)),
            "ticket too long" => Encoding.ASCII.GetBytes(new string('a', RelayClaim.MaximumTicketLength + 1) + "\n"),
            "unknown verb" => Encoding.ASCII.GetBytes("delete se-1 vnc\n"),
            "no service" => Encoding.ASCII.GetBytes("stream se-1\n"),
            "bad service name" => Encoding.ASCII.GetBytes("stream se-1 ../etc\n"),
            "bytes after the line" => Encoding.ASCII.GetBytes("ticket\nGET / HTTP/1.1"),
            "control characters" => Encoding.ASCII.GetBytes("tick\u0001et\n"),
            _ => Encoding.ASCII.GetBytes("\n"),
        };

        await _module.WriteAsync(bytes, _deadline.Token);

        await FluentActions.Awaiting(() => RelayClaim.ReadClaimAsync(_server, _deadline.Token)).Should().ThrowAsync<RelayClaimException>();
    }

    [Fact]
    public async Task ReadClaim_WhenTheModuleClosesFirst_ReturnsNull()
    {
        _module.Socket.Shutdown(SocketShutdown.Send);

        var ticket = await RelayClaim.ReadClaimAsync(_server, _deadline.Token);

        ticket.Should().BeNull();
    }

    [Fact]
    public async Task Claim_WithATicketThatIsNotPrintableAscii_IsRejectedBeforeSending()
    {
        var claim = () => RelayClaim.ClaimAsync(_module, "tick et", _deadline.Token);

        await claim.Should().ThrowAsync<ArgumentException>();
    }
}
