using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using PrivateServer.Protocol.Relay;

namespace PrivateServer.Protocol.Tests.Relay;

/// <summary>Framed relay streams over real loopback sockets: a connection that carries one stream after another.</summary>
public sealed class FramedRelayStreamTests : IAsyncLifetime, IDisposable
{
    private readonly CancellationTokenSource _deadline = new(TimeSpan.FromSeconds(30));
    private NetworkStream _near = null!;
    private NetworkStream _far = null!;

    public async Task InitializeAsync() => (_near, _far) = await SocketPairAsync(_deadline.Token);

    public async Task DisposeAsync()
    {
        await _near.DisposeAsync();
        await _far.DisposeAsync();
        Dispose();
    }

    public void Dispose() => _deadline.Dispose();

    [Fact]
    public async Task Write_LargerThanOneFrame_ArrivesWhole_AndTheEndReadsAsZero()
    {
        var near = new FramedRelayStream(_near);
        var far = new FramedRelayStream(_far);
        var data = new byte[100_000];
        Random.Shared.NextBytes(data);

        var writing = WriteThenEndAsync(near, data);
        var received = await ReadToEndAsync(far);
        await writing;

        received.Should().Equal(data);
        far.EndReceived.Should().BeTrue();
        near.EndSent.Should().BeTrue();
        near.IsReusable.Should().BeFalse("the far side has not sent its end yet");
    }

    [Fact]
    public async Task BothEnds_LeaveTheConnectionReusable_AndNothingAfterTheEndIsRead()
    {
        var near = new FramedRelayStream(_near);
        var far = new FramedRelayStream(_far);
        await near.WriteAsync("first stream"u8.ToArray(), _deadline.Token);

        // The far side's end and what follows it on the connection (the next claim line) come in one write.
        var endAndNext = new byte[FramedRelayStream.HeaderLength + 5];
        "next\n"u8.CopyTo(endAndNext.AsSpan(FramedRelayStream.HeaderLength));
        await _far.WriteAsync(endAndNext, _deadline.Token);
        var read = await ReadToEndAsync(near);
        await near.EndAsync(_deadline.Token);

        Encoding.ASCII.GetString(read).Should().BeEmpty("the far side sent no bytes before its end");
        near.IsReusable.Should().BeTrue();
        var next = new byte[5];
        await _near.ReadExactlyAsync(next, _deadline.Token);
        next.Should().Equal("next\n"u8.ToArray(), "the framed stream stops reading at the end frame");
        Encoding.ASCII.GetString(await ReadToEndAsync(far)).Should().Be("first stream");
    }

    [Theory]
    [InlineData(FramedRelayStream.MaximumPayload + 1)]
    [InlineData(-5)]
    public async Task Read_AFrameLongerThanTheLimit_FailsWithAClearError_AndBreaksTheStream(int announced)
    {
        var far = new FramedRelayStream(_far);
        var header = new byte[FramedRelayStream.HeaderLength];
        BinaryPrimitives.WriteInt32BigEndian(header, announced);
        await _near.WriteAsync(header, _deadline.Token);

        var read = async () => await far.ReadAsync(new byte[64], _deadline.Token);

        await read.Should().ThrowAsync<RelayFramingException>().WithMessage($"a relay frame announced {announced} bytes; a frame carries 1 to 16380");
        far.IsBroken.Should().BeTrue();
        far.IsReusable.Should().BeFalse();
    }

    [Fact]
    public async Task Read_WhenTheConnectionClosesInsideAFrame_FailsAndBreaksTheStream()
    {
        var far = new FramedRelayStream(_far);
        var frame = new byte[FramedRelayStream.HeaderLength + 3];
        BinaryPrimitives.WriteInt32BigEndian(frame, 10);
        await _near.WriteAsync(frame, _deadline.Token);
        _near.Socket.Shutdown(SocketShutdown.Send);

        var buffer = new byte[64];
        (await far.ReadAsync(buffer, _deadline.Token)).Should().Be(3);
        var read = async () => await far.ReadAsync(buffer, _deadline.Token);

        await read.Should().ThrowAsync<EndOfStreamException>();
        far.IsBroken.Should().BeTrue();
    }

    [Fact]
    public async Task Dispose_AfterBothEnds_GivesTheConnectionBack_AndOtherwiseClosesIt()
    {
        Stream? givenBack = null;
        var near = new FramedRelayStream(_near, connection =>
        {
            givenBack = connection;
            return ValueTask.CompletedTask;
        });
        var far = new FramedRelayStream(_far);

        // The far side answers the end with its own, as every module and the server do.
        var answering = Task.Run(
            async () =>
            {
                await ReadToEndAsync(far);
                await far.EndAsync(_deadline.Token);
            },
            _deadline.Token);
        await near.WriteAsync("bye"u8.ToArray(), _deadline.Token);
        await near.DisposeAsync();
        await answering;

        givenBack.Should().BeSameAs(_near, "a stream that ended cleanly leaves its connection for the next one");

        // A stream whose far side closes instead of ending is not given back: its connection is closed.
        var (other, otherFar) = await SocketPairAsync(_deadline.Token);
        await using (otherFar)
        {
            var closed = new FramedRelayStream(other, _ => throw new InvalidOperationException("a broken connection must not be reused"));
            otherFar.Socket.Close();
            await closed.DisposeAsync();
            closed.IsReusable.Should().BeFalse();
            var write = async () => await other.WriteAsync(new byte[1], _deadline.Token);
            await write.Should().ThrowAsync<ObjectDisposedException>();
        }
    }

    private async Task WriteThenEndAsync(FramedRelayStream stream, byte[] data)
    {
        await stream.WriteAsync(data, _deadline.Token);
        await stream.EndAsync(_deadline.Token);
    }

    private async Task<byte[]> ReadToEndAsync(Stream stream)
    {
        using var received = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        while ((read = await stream.ReadAsync(buffer, _deadline.Token)) > 0)
        {
            received.Write(buffer, 0, read);
        }

        return received.ToArray();
    }

    internal static async Task<(NetworkStream Near, NetworkStream Far)> SocketPairAsync(CancellationToken cancellationToken)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var near = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await near.ConnectAsync((IPEndPoint)listener.LocalEndpoint, cancellationToken);
        var far = await listener.AcceptSocketAsync(cancellationToken);
        far.NoDelay = true;
        return (new NetworkStream(near, ownsSocket: true), new NetworkStream(far, ownsSocket: true));
    }
}
