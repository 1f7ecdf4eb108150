using System.Buffers.Binary;
using System.Text;
using PrivateServer.HostModule.Rfb;

namespace PrivateServer.HostModule.Tests.Rfb;

/// <summary>The server→client half of the view-only relay: everything the screen sends reaches the supporter, except the host's clipboard.</summary>
public sealed class RfbViewOnlyServerTests
{
    private static readonly byte[] Handshake38None = [.. "RFB 003.008\n"u8, 1, 1, 0, 0, 0, 0, .. ServerInit(32, "host")];

    [Fact]
    public async Task CopyServerAsync_WhenServerSendsItsClipboard_DropsItAndForwardsEverythingElseExactly()
    {
        byte[] input =
        [
            .. Handshake38None,
            .. Update(Rectangle(0, 2, 2, 0, Pixels(4, 4))),
            .. CutText("the host's password: hunter2"),
            .. Bell(),
            .. ColourMap(3),
            .. Update(Rectangle(10, 4, 4, 1, [0, 1, 0, 2])),
            .. CutText(new string('x', 100_000)),
            150,
            .. ServerFence(4),
        ];
        byte[] expected =
        [
            .. Handshake38None,
            .. Update(Rectangle(0, 2, 2, 0, Pixels(4, 4))),
            .. Bell(),
            .. ColourMap(3),
            .. Update(Rectangle(10, 4, 4, 1, [0, 1, 0, 2])),
            150,
            .. ServerFence(4),
        ];

        foreach (var chunk in new[] { int.MaxValue, 1, 7 })
        {
            var (result, forwarded) = await RunAsync(input, Session(8, 1), chunk);

            forwarded.Should().Equal(expected, $"reads of at most {chunk} bytes change nothing");
            result.Should().Be(new RfbFilterResult(RfbFilterOutcome.Ended, null, 6, 2, expected.Length));
        }
    }

    public static TheoryData<string, byte[]> Rectangles => new()
    {
        { "Raw", Rectangle(0, 3, 2, 0, Pixels(6, 4)) },
        { "CopyRect", Rectangle(1, 30, 20, 1, [0, 5, 0, 6]) },
        { "RRE", Rectangle(2, 30, 20, 2, [0, 0, 0, 2, .. Pixels(1, 4), .. Pixels(1, 4), 0, 1, 0, 1, 0, 2, 0, 2, .. Pixels(1, 4), 0, 3, 0, 3, 0, 1, 0, 1]) },
        { "Hextile", Rectangle(5, 20, 18, 5, Hextile(20, 18, 4)) },
        { "zlib", Rectangle(6, 64, 64, 6, [0, 0, 0, 5, 0x78, 0x9C, 3, 0, 0]) },
        { "ZRLE", Rectangle(16, 64, 64, 16, [0, 0, 1, 0, .. Enumerable.Repeat((byte)3, 256)]) },
        { "Cursor", Rectangle(-239, 10, 3, -239, [.. Pixels(30, 4), .. new byte[2 * 3]]) },
        { "XCursor", Rectangle(-240, 9, 2, -240, [1, 2, 3, 4, 5, 6, .. new byte[2 * 2 * 2]]) },
        { "empty XCursor", Rectangle(-240, 0, 0, -240, []) },
        { "DesktopSize", Rectangle(-223, 800, 600, -223, []) },
        { "PointerPos", Rectangle(-232, 5, 5, -232, []) },
        { "QEMU key events", Rectangle(-258, 0, 0, -258, []) },
        { "DesktopName", Rectangle(-307, 0, 0, -307, [0, 0, 0, 4, .. "desk"u8]) },
        { "ExtendedDesktopSize", Rectangle(-308, 800, 600, -308, [2, 0, 0, 0, .. new byte[32]]) },
    };

    [Theory]
    [MemberData(nameof(Rectangles))]
    public async Task CopyServerAsync_WhenUpdateHoldsAnEncoding_FindsWhereItEndsAndDropsTheClipboardBehindIt(string encoding, byte[] rectangle)
    {
        byte[] input = [.. Handshake38None, .. Update(rectangle, rectangle), .. CutText("secret"), .. Bell()];

        var (result, forwarded) = await RunAsync(input, Session(8, 1), maxChunk: 3);

        forwarded.Should().Equal([.. Handshake38None, .. Update(rectangle, rectangle), .. Bell()], encoding);
        result.Outcome.Should().Be(RfbFilterOutcome.Ended);
        result.MessagesDropped.Should().Be(1);
    }

    [Fact]
    public async Task CopyServerAsync_WhenClientChose16BitPixels_MeasuresPixelDataInTwoBytes()
    {
        var session = Session(8, 1);
        session.ClientBytesPerPixel = 2;
        byte[] update = [.. Update(Rectangle(0, 3, 3, 0, Pixels(9, 2)), Rectangle(5, 17, 1, 5, Hextile(17, 1, 2)))];
        byte[] input = [.. Handshake38None, .. update, .. CutText("secret"), .. Bell()];

        var (_, forwarded) = await RunAsync(input, session);

        forwarded.Should().Equal([.. Handshake38None, .. update, .. Bell()]);
    }

    [Fact]
    public async Task CopyServerAsync_WhenUpdateEndsWithLastRect_ReadsNoMoreRectanglesThanSent()
    {
        byte[] rectangles = [.. Rectangle(0, 1, 1, 0, Pixels(1, 4)), .. Rectangle(0, 0, 0, -224, [])];
        byte[] input = [.. Handshake38None, 0, 0, 0xFF, 0xFF, .. rectangles, .. CutText("secret"), .. Bell()];

        var (result, forwarded) = await RunAsync(input, Session(8, 1));

        forwarded.Should().Equal([.. Handshake38None, 0, 0, 0xFF, 0xFF, .. rectangles, .. Bell()]);
        result.MessagesDropped.Should().Be(1);
    }

    [Fact]
    public async Task CopyServerAsync_WhenHandshakeIs38WithVncAuthentication_ForwardsTheChallengeAndResult()
    {
        byte[] handshake = [.. "RFB 003.008\n"u8, 1, 2, .. Enumerable.Range(1, 16).Select(i => (byte)i), 0, 0, 0, 0, .. ServerInit(16, "")];
        byte[] input = [.. handshake, .. Update(Rectangle(0, 1, 2, 0, Pixels(2, 2))), .. CutText("secret")];

        var (_, forwarded) = await RunAsync(input, Session(8, 2));

        forwarded.Should().Equal([.. handshake, .. Update(Rectangle(0, 1, 2, 0, Pixels(2, 2)))]);
    }

    [Fact]
    public async Task CopyServerAsync_WhenHandshakeIs37WithNoAuthentication_ExpectsNoSecurityResult()
    {
        byte[] handshake = [.. "RFB 003.007\n"u8, 1, 1, .. ServerInit(32, "seven")];
        byte[] input = [.. handshake, .. CutText("secret"), .. Bell()];

        var (_, forwarded) = await RunAsync(input, Session(7, 1));

        forwarded.Should().Equal([.. handshake, .. Bell()]);
    }

    [Fact]
    public async Task CopyServerAsync_WhenServerRefusesTheConnection_ForwardsItsReasonAndStops()
    {
        byte[] refusal = [.. "RFB 003.008\n"u8, 0, 0, 0, 0, 8, .. "too many"u8];

        var (result, forwarded) = await RunAsync(refusal, Session(8, 1));

        forwarded.Should().Equal(refusal);
        result.Violation.Should().Be("the RFB server refused the connection");
    }

    [Fact]
    public async Task CopyServerAsync_WhenAuthenticationFails_ForwardsTheReasonAndStops()
    {
        byte[] failure = [.. "RFB 003.008\n"u8, 1, 2, .. new byte[16], 0, 0, 0, 1, 0, 0, 0, 5, .. "wrong"u8];

        var (result, forwarded) = await RunAsync([.. failure, .. CutText("secret")], Session(8, 2));

        forwarded.Should().Equal(failure);
        result.Violation.Should().Be("the RFB server refused the authentication");
    }

    [Theory]
    [InlineData(7, "the RFB server sent a rectangle in encoding 7, which was not asked for while only watching")]
    [InlineData(unchecked((int)0xC0A1E5CE), "the RFB server sent a rectangle in encoding -1063131698, which was not asked for while only watching")]
    public async Task CopyServerAsync_WhenRectangleIsInAnEncodingItCannotMeasure_ReportsViolation(int encoding, string violation)
    {
        byte[] input = [.. Handshake38None, .. Bell(), .. Update(Rectangle(0, 8, 8, encoding, new byte[40])), .. CutText("secret")];

        var (result, forwarded) = await RunAsync(input, Session(8, 1));

        result.Violation.Should().Be(violation);
        forwarded.Should().StartWith([.. Handshake38None, .. Bell()]);
        Encoding.Latin1.GetString(forwarded).Should().NotContain("secret");
    }

    [Theory]
    [InlineData("RFB 003.003\n", "unsupported RFB server version 'RFB 003.003'")]
    [InlineData("HTTP/1.1 200", "unsupported RFB server version 'HTTP/1.1 200'")]
    public async Task CopyServerAsync_WhenServerIsNotRfb37OrLater_ForwardsNothing(string greeting, string violation)
    {
        var (result, forwarded) = await RunAsync([.. Encoding.ASCII.GetBytes(greeting), 1, 1], Session(8, 1));

        result.Violation.Should().Be(violation);
        forwarded.Should().BeEmpty();
    }

    [Fact]
    public async Task CopyServerAsync_WhenMessageTypeIsUnknown_ForwardsEarlierMessagesAndStops()
    {
        byte[] input = [.. Handshake38None, .. Bell(), 9, .. CutText("secret")];

        var (result, forwarded) = await RunAsync(input, Session(8, 1));

        result.Should().Be(new RfbFilterResult(RfbFilterOutcome.Violation, "unknown server message type 9", 1, 0, Handshake38None.Length + 1));
        forwarded.Should().Equal([.. Handshake38None, .. Bell()]);
    }

    [Fact]
    [Trait("Category", "Fuzz")]
    public async Task CopyServerAsync_WhenFedRandomServerSessions_ForwardsAllButTheClipboardAndNeverFails()
    {
        await Fuzz.RunAsync(6143 * 3, 1500, async random =>
        {
            var (input, expected) = RandomServerSession(random);
            var mutate = random.Next(4) == 0;
            if (mutate)
            {
                for (var i = random.Next(1, 4); i > 0; i--)
                {
                    input[random.Next(input.Length)] = (byte)random.Next(256);
                }
            }

            var cut = random.Next(5) == 0 ? random.Next(input.Length + 1) : input.Length;

            var (result, forwarded) = await RunAsync(input[..cut], Session(8, 1), random.Next(1, 64), random.Next());

            result.BytesForwarded.Should().Be(forwarded.Length);
            if (!mutate)
            {
                result.Violation.Should().BeNull();
                expected.Should().StartWith(forwarded, "a well-formed session loses only its clipboard");
                if (cut == input.Length)
                {
                    forwarded.Should().Equal(expected);
                }
            }
        });
    }

    private static RfbViewOnlySession Session(int minorVersion, int securityType) => new() { MinorVersion = minorVersion, SecurityType = securityType };

    private static async Task<(RfbFilterResult Result, byte[] Forwarded)> RunAsync(byte[] input, RfbViewOnlySession session, int maxChunk = int.MaxValue, int seed = 0)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var client = new MemoryStream();
        var result = await RfbViewOnlyFilter.CopyServerAsync(new ChunkedStream(input, maxChunk, seed), client, session, deadline.Token);
        return (result, client.ToArray());
    }

    /// <summary>Well-formed server messages with random contents; the expected output is the same without ServerCutText.</summary>
    private static (byte[] Input, byte[] Expected) RandomServerSession(Random random)
    {
        var input = new List<byte>(Handshake38None);
        var expected = new List<byte>(Handshake38None);
        for (var i = random.Next(0, 15); i > 0; i--)
        {
            if (random.Next(4) == 0)
            {
                input.AddRange(CutText(new string('s', random.Next(0, 3000))));
                continue;
            }

            byte[] message = random.Next(5) switch
            {
                0 => Bell(),
                1 => ColourMap(random.Next(0, 20)),
                2 => ServerFence(random.Next(0, 65)),
                3 => [150],
                _ => Update([.. Enumerable.Range(0, random.Next(0, 4)).Select(_ => RandomRectangle(random))]),
            };
            input.AddRange(message);
            expected.AddRange(message);
        }

        return (input.ToArray(), expected.ToArray());
    }

    private static byte[] RandomRectangle(Random random)
    {
        var width = random.Next(0, 40);
        var height = random.Next(0, 40);
        return random.Next(6) switch
        {
            0 => Rectangle(0, width, height, 0, RandomBytes(random, width * height * 4)),
            1 => Rectangle(1, width, height, 1, RandomBytes(random, 4)),
            2 => Rectangle(5, width, height, 5, Hextile(width, height, 4, random)),
            3 => Rectangle(16, width, height, 16, [0, 0, 0, 10, .. RandomBytes(random, 10)]),
            4 => Rectangle(-239, width, height, -239, RandomBytes(random, (width * height * 4) + ((width + 7) / 8 * height))),
            _ => Rectangle(-223, width, height, -223, []),
        };
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] ServerInit(int bitsPerPixel, string name)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var init = new byte[24 + nameBytes.Length];
        BinaryPrimitives.WriteUInt16BigEndian(init, 1920);
        BinaryPrimitives.WriteUInt16BigEndian(init.AsSpan(2), 1080);
        byte[] format = [(byte)bitsPerPixel, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0];
        format.CopyTo(init, 4);
        BinaryPrimitives.WriteUInt32BigEndian(init.AsSpan(20), (uint)nameBytes.Length);
        nameBytes.CopyTo(init, 24);
        return init;
    }

    private static byte[] Update(params byte[][] rectangles)
    {
        var header = new byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), (ushort)rectangles.Length);
        return [.. header, .. rectangles.SelectMany(r => r)];
    }

    /// <summary>A rectangle header at (<paramref name="x"/>, 7) and its data; <paramref name="x"/> only tells rectangles apart.</summary>
    private static byte[] Rectangle(int x, int width, int height, int encoding, byte[] data)
    {
        var header = new byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(header, (ushort)Math.Abs(x));
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), 7);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(4), (ushort)width);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(6), (ushort)height);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), encoding);
        return [.. header, .. data];
    }

    private static byte[] Pixels(int count, int bytesPerPixel) => [.. Enumerable.Range(0, count * bytesPerPixel).Select(i => (byte)(i * 37))];

    /// <summary>Hextile data, tile by tile, cycling through every kind of tile (or choosing at random).</summary>
    private static byte[] Hextile(int width, int height, int bytesPerPixel, Random? random = null)
    {
        var data = new List<byte>();
        var kind = 0;
        for (var top = 0; top < height; top += 16)
        {
            for (var left = 0; left < width; left += 16)
            {
                var tile = Math.Min(16, width - left) * Math.Min(16, height - top);
                var subrectangles = random?.Next(0, 256) ?? 3;
                switch (random?.Next(5) ?? kind++ % 5)
                {
                    case 0: // raw
                        data.Add(1);
                        data.AddRange(Pixels(tile, bytesPerPixel));
                        break;
                    case 1: // background only
                        data.Add(2);
                        data.AddRange(Pixels(1, bytesPerPixel));
                        break;
                    case 2: // background, foreground, plain subrectangles
                        data.AddRange([2 | 4 | 8, .. Pixels(2, bytesPerPixel), (byte)subrectangles, .. new byte[2 * subrectangles]]);
                        break;
                    case 3: // coloured subrectangles
                        data.AddRange([8 | 16, (byte)subrectangles, .. Pixels(subrectangles, bytesPerPixel + 2)]);
                        break;
                    default: // same background as before, nothing else
                        data.Add(0);
                        break;
                }
            }
        }

        return [.. data];
    }

    private static byte[] CutText(string text)
    {
        var bytes = Encoding.Latin1.GetBytes(text);
        var message = new byte[8 + bytes.Length];
        message[0] = 3;
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(4), (uint)bytes.Length);
        bytes.CopyTo(message, 8);
        return message;
    }

    private static byte[] Bell() => [2];

    private static byte[] ColourMap(int colours)
    {
        var message = new byte[6 + (6 * colours)];
        message[0] = 1;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4), (ushort)colours);
        return message;
    }

    private static byte[] ServerFence(int payload) => [248, 0, 0, 0, 0, 0, 0, 1, (byte)payload, .. Enumerable.Repeat((byte)0xCD, payload)];

    /// <summary>Serves <paramref name="data"/> in reads of random length up to <paramref name="maxChunk"/>.</summary>
    private sealed class ChunkedStream(byte[] data, int maxChunk, int seed) : Stream
    {
        private readonly Random _random = new(seed);
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => data.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var count = Math.Min(Math.Min(buffer.Length, data.Length - _position), _random.Next(1, Math.Max(2, Math.Min(maxChunk, int.MaxValue - 1) + 1)));
            data.AsSpan(_position, count).CopyTo(buffer.Span);
            _position += count;
            return ValueTask.FromResult(count);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
