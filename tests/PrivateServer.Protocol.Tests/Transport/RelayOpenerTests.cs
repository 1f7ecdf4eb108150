using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using PrivateServer.Protocol.Relay;
using PrivateServer.Protocol.Transport;

namespace PrivateServer.Protocol.Tests.Transport;

/// <summary>
/// The spare relay connection over real loopback sockets: a listener stands in for the server's relay endpoint (it takes
/// each connection's ticket and accepts it), the clock is the test's.
/// </summary>
public sealed class RelayOpenerTests : IAsyncLifetime, IDisposable
{
    private readonly CancellationTokenSource _deadline = new(TimeSpan.FromSeconds(30));
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Channel<(NetworkStream Connection, Task<string?> Ticket)> _accepted = Channel.CreateUnbounded<(NetworkStream, Task<string?>)>();
    private readonly ConcurrentQueue<Stream> _streams = new();
    private readonly FakeTimeProvider _time = new();
    private int _opened;
    private Task _accepting = Task.CompletedTask;

    public Task InitializeAsync()
    {
        _listener.Start();
        _accepting = AcceptAsync();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _listener.Stop();
        await _deadline.CancelAsync();
        await Task.WhenAny(_accepting);
        foreach (var stream in _streams)
        {
            await stream.DisposeAsync();
        }

        Dispose();
    }

    public void Dispose()
    {
        _listener.Dispose();
        _deadline.Dispose();
    }

    [Fact]
    public async Task Open_TakesTheSpare_AndOpensItsReplacementOnlyAfterTheRefillDelay()
    {
        await using var opener = await OpenerWithOneStreamAsync();

        await Task.Delay(300, _deadline.Token);
        Volatile.Read(ref _opened).Should().Be(1, "the replacement's handshake must not compete with the new stream's first bytes");

        _time.Advance(RelayOpener.RefillDelay);
        var (_, replacementTicket) = await NextAcceptedAsync();

        Volatile.Read(ref _opened).Should().Be(2);
        replacementTicket.IsCompleted.Should().BeFalse("the replacement waits for the next stream's ticket");
    }

    [Fact]
    public async Task Open_BeforeTheReplacementIsDue_ClaimsOnAFreshConnection_AndStillGetsOneSpare()
    {
        await using var opener = await OpenerWithOneStreamAsync();

        var second = opener.OpenAsync("second", _deadline.Token);
        var (fresh, freshTicket) = await NextAcceptedAsync();
        (await freshTicket).Should().Be("second", "a stream never waits for the refill delay");
        await AcceptAsync(fresh);
        _streams.Enqueue(await second);

        _time.Advance(RelayOpener.RefillDelay);
        await NextAcceptedAsync();
        await Task.Delay(300, _deadline.Token);
        Volatile.Read(ref _opened).Should().Be(3, "the two claims' refills fill one spare, not two");
    }

    [Fact]
    public async Task Open_WhenTheServerClosedTheSpare_ClaimsTheSameTicketOnAFreshConnection()
    {
        await using var opener = new RelayOpener(ConnectAsync, _time);
        opener.KeepSpare(true);
        var (spare, _) = await NextAcceptedAsync();
        await spare.DisposeAsync();

        var opening = opener.OpenAsync("ticket", _deadline.Token);
        var (fresh, freshTicket) = await NextAcceptedAsync();

        (await freshTicket).Should().Be("ticket");
        await AcceptAsync(fresh);
        _streams.Enqueue(await opening);
    }

    [Fact]
    public async Task Request_AsksForTheStreamOnTheSpare()
    {
        await using var opener = new RelayOpener(ConnectAsync, _time);
        opener.KeepSpare(true);
        var (spare, claim) = await NextAcceptedAsync();

        var opening = opener.RequestAsync("se-abc", "vnc", _deadline.Token);
        (await claim).Should().Be("stream se-abc vnc", "a supporter's stream needs no ticket from the session's channel first");
        await AcceptAsync(spare);

        _streams.Enqueue(await opening);
        Volatile.Read(ref _opened).Should().Be(1);
    }

    [Fact]
    public async Task Request_WhenTheServerRefuses_ThrowsWithTheServersReason()
    {
        await using var opener = new RelayOpener(ConnectAsync, _time);
        opener.KeepSpare(true);
        var (spare, claim) = await NextAcceptedAsync();

        var opening = opener.RequestAsync("se-abc", "rdp", _deadline.Token);
        await claim;
        await spare.WriteAsync(RelayClaim.Refusal("the session was not granted the service 'rdp'"), _deadline.Token);
        spare.Socket.Shutdown(SocketShutdown.Send);

        await FluentActions.Awaiting(() => opening).Should().ThrowAsync<RelayClaimException>()
            .WithMessage("the session was not granted the service 'rdp'");
        Volatile.Read(ref _opened).Should().Be(1, "a refusal is an answer: the request is not tried again elsewhere");
    }

    [Fact]
    public async Task KeepSpare_Off_BeforeTheRefillIsDue_OpensNoSpare()
    {
        await using var opener = await OpenerWithOneStreamAsync();

        opener.KeepSpare(false);
        _time.Advance(RelayOpener.RefillDelay);
        await Task.Delay(300, _deadline.Token);

        Volatile.Read(ref _opened).Should().Be(1, "with no session running a module keeps no spare");
    }

    [Fact]
    public async Task Open_OnAConnectionTheServerFrames_GivesItBackWhenTheStreamEnds_AndTheNextStreamTakesIt()
    {
        await using var opener = new RelayOpener(async token => new RelayConnection(await ConnectAsync(token), Reusable: true), _time);
        opener.KeepSpare(true);
        var (spare, claim) = await NextAcceptedAsync();
        var opening = opener.OpenAsync("first", _deadline.Token);
        (await claim).Should().Be("first");
        await AcceptAsync(spare);
        var stream = await opening;
        var serverHalf = new FramedRelayStream(spare);

        await stream.WriteAsync("hello"u8.ToArray(), _deadline.Token);
        await serverHalf.EndAsync(_deadline.Token);
        await stream.DisposeAsync();
        var received = new byte[16];
        var read = await serverHalf.ReadAsync(received, _deadline.Token);
        var afterEnd = await serverHalf.ReadAsync(received.AsMemory(read), _deadline.Token);
        var second = opener.OpenAsync("second", _deadline.Token);
        var secondClaim = await RelayClaim.ReadClaimAsync(spare, _deadline.Token);
        await AcceptAsync(spare);
        _streams.Enqueue(await second);

        stream.Should().BeOfType<FramedRelayStream>();
        received.AsSpan(0, read).ToArray().Should().Equal("hello"u8.ToArray());
        afterEnd.Should().Be(0, "disposing the module's stream sends its end");
        serverHalf.IsReusable.Should().BeTrue();
        secondClaim!.Ticket.Should().Be("second", "the next stream is claimed on the connection the first one gave back");
        Volatile.Read(ref _opened).Should().Be(1, "no handshake for the second stream");
    }

    /// <summary>An opener that kept a spare, and one stream claimed on that spare.</summary>
    private async Task<RelayOpener> OpenerWithOneStreamAsync()
    {
        var opener = new RelayOpener(ConnectAsync, _time);
        opener.KeepSpare(true);
        var (spare, spareTicket) = await NextAcceptedAsync();
        var opening = opener.OpenAsync("first", _deadline.Token);
        (await spareTicket).Should().Be("first", "the stream is claimed on the connection that was already open");
        await AcceptAsync(spare);
        _streams.Enqueue(await opening);
        return opener;
    }

    private async Task<Stream> ConnectAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _opened);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync((IPEndPoint)_listener.LocalEndpoint, cancellationToken);
        return new NetworkStream(socket, ownsSocket: true);
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_deadline.Token);
                var connection = new NetworkStream(socket, ownsSocket: true);
                _streams.Enqueue(connection);
                await _accepted.Writer.WriteAsync((connection, ReadTicketAsync(connection)), _deadline.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            _accepted.Writer.TryComplete();
        }
    }

    private async Task<string?> ReadTicketAsync(NetworkStream connection)
    {
        try
        {
            return await RelayClaim.ReadClaimAsync(connection, _deadline.Token) is { } line
                ? line.Ticket ?? $"stream {line.SessionId} {line.Service}"
                : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private async Task<(NetworkStream Connection, Task<string?> Ticket)> NextAcceptedAsync() =>
        await _accepted.Reader.ReadAsync(_deadline.Token);

    private async Task AcceptAsync(NetworkStream connection) =>
        await connection.WriteAsync(new[] { RelayClaim.Accepted }, _deadline.Token);
}
