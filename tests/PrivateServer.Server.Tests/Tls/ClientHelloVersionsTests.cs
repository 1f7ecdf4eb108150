using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using PrivateServer.Server.Tls;

namespace PrivateServer.Server.Tests.Tls;

/// <summary>Reading the offered TLS versions from real ClientHellos (sent by .NET's own TLS client over loopback) and from broken ones.</summary>
public sealed class ClientHelloVersionsTests
{
    [Fact]
    public async Task OffersTls13In_WhenTheClientSpeaksTls13_IsTrue()
    {
        var hello = await CaptureClientHelloAsync(SslProtocols.Tls12 | SslProtocols.Tls13);

        ClientHelloVersions.OffersTls13In(new ReadOnlySequence<byte>(hello)).Should().BeTrue();
    }

    [Fact]
    public async Task OffersTls13In_WhenTheClientSpeaksOnlyTls12_IsFalse()
    {
        var hello = await CaptureClientHelloAsync(SslProtocols.Tls12);

        ClientHelloVersions.OffersTls13In(new ReadOnlySequence<byte>(hello)).Should().BeFalse();
    }

    [Fact]
    public async Task OffersTls13In_WhenTheRecordArrivesInSeveralSegments_ReadsItAll()
    {
        var hello = await CaptureClientHelloAsync(SslProtocols.Tls13);

        ClientHelloVersions.OffersTls13In(Segmented(hello, 7)).Should().BeTrue();
    }

    [Fact]
    public async Task OffersTls13In_WhenTheHelloIsCutShortOrGarbled_IsFalseWithoutThrowing()
    {
        var hello = await CaptureClientHelloAsync(SslProtocols.Tls13);
        var notHandshake = (byte[])hello.Clone();
        notHandshake[0] = 23;
        var hugeLength = (byte[])hello.Clone();
        hugeLength[3] = 0xff;
        var random = new byte[600];
        new Random(4).NextBytes(random);

        var results = new[]
        {
            ClientHelloVersions.OffersTls13In(new ReadOnlySequence<byte>(hello.AsMemory(0, hello.Length - 1))),
            ClientHelloVersions.OffersTls13In(new ReadOnlySequence<byte>(hello.AsMemory(0, 4))),
            ClientHelloVersions.OffersTls13In(ReadOnlySequence<byte>.Empty),
            ClientHelloVersions.OffersTls13In(new ReadOnlySequence<byte>(notHandshake)),
            ClientHelloVersions.OffersTls13In(new ReadOnlySequence<byte>(hugeLength)),
            ClientHelloVersions.OffersTls13In(new ReadOnlySequence<byte>("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray())),
            ClientHelloVersions.OffersTls13In(new ReadOnlySequence<byte>([22, 3, 1, .. random[..2], .. random])),
        };

        results.Should().AllBeEquivalentTo(false);
    }

    [Fact]
    public async Task OffersTls13In_WhenAnyInnerLengthIsCorrupted_NeverThrows()
    {
        var hello = await CaptureClientHelloAsync(SslProtocols.Tls12 | SslProtocols.Tls13);

        for (var i = 5; i < hello.Length; i++)
        {
            foreach (var value in new byte[] { 0x00, 0xff, (byte)(hello[i] ^ 0x80) })
            {
                var broken = (byte[])hello.Clone();
                broken[i] = value;
                var read = () => ClientHelloVersions.OffersTls13In(new ReadOnlySequence<byte>(broken));
                read.Should().NotThrow($"byte {i} set to {value}");
            }
        }
    }

    /// <summary>The first TLS record a real .NET client sends to a loopback listener that then hangs up.</summary>
    private static async Task<byte[]> CaptureClientHelloAsync(SslProtocols protocols)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port, deadline.Token);
        using var server = await listener.AcceptTcpClientAsync(deadline.Token);
        await using var tls = new SslStream(client.GetStream());
        var handshake = tls.AuthenticateAsClientAsync(
            new SslClientAuthenticationOptions { TargetHost = "appliance.example.internal", EnabledSslProtocols = protocols }, deadline.Token);

        var stream = server.GetStream();
        var header = new byte[5];
        await stream.ReadExactlyAsync(header, deadline.Token);
        var record = new byte[5 + ((header[3] << 8) | header[4])];
        header.CopyTo(record, 0);
        await stream.ReadExactlyAsync(record.AsMemory(5), deadline.Token);
        server.Close();
        var failed = () => handshake;
        await failed.Should().ThrowAsync<Exception>("the listener never answers");
        return record;
    }

    private static ReadOnlySequence<byte> Segmented(byte[] data, int size)
    {
        var first = new Segment(data.AsMemory(0, Math.Min(size, data.Length)), 0);
        var last = first;
        for (var offset = size; offset < data.Length; offset += size)
        {
            last = last.Append(data.AsMemory(offset, Math.Min(size, data.Length - offset)));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
