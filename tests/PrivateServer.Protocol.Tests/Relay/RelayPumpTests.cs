using System.Net.Sockets;
using System.Text;
using PrivateServer.Protocol.Relay;

namespace PrivateServer.Protocol.Tests.Relay;

/// <summary>
/// The relay pump between framed halves (connections that carry one stream after another) and plain ones, over real
/// loopback sockets: the pump stands where the server does, the far ends where the modules do.
/// </summary>
public sealed class RelayPumpTests : IAsyncLifetime, IDisposable
{
    private readonly CancellationTokenSource _deadline = new(TimeSpan.FromSeconds(30));
    private readonly List<Stream> _streams = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var stream in _streams)
        {
            await stream.DisposeAsync();
        }

        Dispose();
    }

    public void Dispose() => _deadline.Dispose();

    [Fact]
    public async Task FramedBothWays_TheEndPassesThrough_AndBothConnectionsStayReusable()
    {
        var (supporter, supporterHalf) = await FramedPairAsync();
        var (host, hostHalf) = await FramedPairAsync();

        var pump = RelayPump.RunAsync(supporterHalf, hostHalf, _deadline.Token);
        await supporter.WriteAsync("hello"u8.ToArray(), _deadline.Token);
        await supporter.EndAsync(_deadline.Token);
        var atHost = await ReadToEndAsync(host);
        await host.WriteAsync("late"u8.ToArray(), _deadline.Token);
        await host.EndAsync(_deadline.Token);
        var atSupporter = await ReadToEndAsync(supporter);
        var result = await pump;

        atHost.Should().Be("hello");
        atSupporter.Should().Be("late", "the host's bytes before its own end still reach the supporter");
        result.EndedBy.Should().Be(RelayEnd.SideA);
        (result.BytesAToB, result.BytesBToA).Should().Be((5, 4));
        supporterHalf.IsReusable.Should().BeTrue();
        hostHalf.IsReusable.Should().BeTrue();
        supporter.IsReusable.Should().BeTrue();
        host.IsReusable.Should().BeTrue();
    }

    [Fact]
    public async Task PlainSideCloses_TheFramedSideGetsTheEnd_AndItsConnectionStaysReusable()
    {
        var (browser, browserHalf) = await FramedRelayStreamTests.SocketPairAsync(_deadline.Token);
        _streams.AddRange([browser, browserHalf]);
        var (host, hostHalf) = await FramedPairAsync();

        var pump = RelayPump.RunAsync(browserHalf, hostHalf, _deadline.Token);
        await browser.WriteAsync("bye"u8.ToArray(), _deadline.Token);
        browser.Socket.Shutdown(SocketShutdown.Send);
        var atHost = await ReadToEndAsync(host);
        await host.EndAsync(_deadline.Token);
        var result = await pump;

        atHost.Should().Be("bye");
        result.EndedBy.Should().Be(RelayEnd.SideA);
        hostHalf.IsReusable.Should().BeTrue();
    }

    [Fact]
    public async Task PlainToFramed_ManyFramesFromOneRead_ArriveByteExact()
    {
        var (local, localHalf) = await FramedRelayStreamTests.SocketPairAsync(_deadline.Token);
        _streams.AddRange([local, localHalf]);
        var (server, relayHalf) = await FramedPairAsync();
        var data = new byte[1_000_000];
        Random.Shared.NextBytes(data);

        var pump = RelayPump.RunAsync(localHalf, relayHalf, _deadline.Token);
        var sending = Task.Run(
            async () =>
            {
                await local.WriteAsync(data, _deadline.Token);
                local.Socket.Shutdown(SocketShutdown.Send);
            },
            _deadline.Token);
        using var received = new MemoryStream();
        var buffer = new byte[FramedRelayStream.MaximumPayload];
        int read;
        while ((read = await server.ReadAsync(buffer, _deadline.Token)) > 0)
        {
            read.Should().BeLessThanOrEqualTo(FramedRelayStream.MaximumPayload);
            received.Write(buffer, 0, read);
        }

        await sending;
        await server.EndAsync(_deadline.Token);
        var result = await pump;

        received.ToArray().AsSpan().SequenceEqual(data).Should().BeTrue("each frame's header is written over bytes already sent, never over bytes still to go");
        result.BytesAToB.Should().Be(data.Length);
        relayHalf.IsReusable.Should().BeTrue();
    }

    [Fact]
    public async Task FramedSideEnds_ThePlainSideIsNoLongerRead_AndThePumpReturnsAtOnce()
    {
        var (browser, browserHalf) = await FramedRelayStreamTests.SocketPairAsync(_deadline.Token);
        _streams.AddRange([browser, browserHalf]);
        var (host, hostHalf) = await FramedPairAsync();
        using var promptly = CancellationTokenSource.CreateLinkedTokenSource(_deadline.Token);
        // Well inside the 5 s the pump gives a second direction that does not end by itself.
        promptly.CancelAfter(TimeSpan.FromSeconds(4));

        var pump = RelayPump.RunAsync(browserHalf, hostHalf, _deadline.Token);
        await host.EndAsync(_deadline.Token);
        var result = await pump.WaitAsync(promptly.Token);
        var atHost = await ReadToEndAsync(host);

        result.EndedBy.Should().Be(RelayEnd.SideB);
        atHost.Should().BeEmpty();
        hostHalf.IsReusable.Should().BeTrue("the pump answered the host's end with its own");
        host.IsReusable.Should().BeTrue();
    }

    [Fact]
    public async Task PlainBothWays_TheFirstSideToClose_EndsThePumpAtOnce()
    {
        var (supporter, supporterHalf) = await FramedRelayStreamTests.SocketPairAsync(_deadline.Token);
        var (host, hostHalf) = await FramedRelayStreamTests.SocketPairAsync(_deadline.Token);
        _streams.AddRange([supporter, supporterHalf, host, hostHalf]);
        using var promptly = CancellationTokenSource.CreateLinkedTokenSource(_deadline.Token);
        promptly.CancelAfter(TimeSpan.FromSeconds(4));

        var pump = RelayPump.RunAsync(supporterHalf, hostHalf, _deadline.Token);
        await supporter.WriteAsync("bye"u8.ToArray(), _deadline.Token);
        supporter.Socket.Shutdown(SocketShutdown.Send);
        var result = await pump.WaitAsync(promptly.Token);

        result.EndedBy.Should().Be(RelayEnd.SideA, "the host side never closes: the pump stops reading it");
        result.BytesAToB.Should().Be(3);
    }

    [Fact]
    public async Task AGarbledFrame_EndsTheStream_ThatConnectionIsNotReused_TheOtherIs()
    {
        var (supporterRaw, supporterHalf) = await FramedPairAsync();
        var (host, hostHalf) = await FramedPairAsync();

        var pump = RelayPump.RunAsync(supporterHalf, hostHalf, _deadline.Token);
        await supporterRaw.Connection.WriteAsync(new byte[] { 0x7f, 0xff, 0xff, 0xff }, _deadline.Token);
        var atHost = await ReadToEndAsync(host);
        await host.EndAsync(_deadline.Token);
        var result = await pump;

        atHost.Should().BeEmpty();
        result.Error.Should().Contain("a relay frame announced 2147483647 bytes");
        supporterHalf.IsReusable.Should().BeFalse();
        hostHalf.IsReusable.Should().BeTrue();
    }

    private async Task<(FramedRelayStream Far, FramedRelayStream Half)> FramedPairAsync()
    {
        var (far, half) = await FramedRelayStreamTests.SocketPairAsync(_deadline.Token);
        _streams.AddRange([far, half]);
        return (new FramedRelayStream(far), new FramedRelayStream(half));
    }

    private async Task<string> ReadToEndAsync(Stream stream)
    {
        var text = new StringBuilder();
        var buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer, _deadline.Token)) > 0)
        {
            text.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return text.ToString();
    }
}
