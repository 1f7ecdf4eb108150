using System.Buffers.Binary;
using PrivateServer.HostModule.Rfb;

namespace PrivateServer.HostModule.Tests.Rfb;

public sealed class RfbViewOnlyFilterTests
{
    private static readonly byte[] HandshakeNone = [.. "RFB 003.008\n"u8, 1, 0];
    private static readonly byte[] HandshakeVncAuth = [.. "RFB 003.008\n"u8, 2, .. Enumerable.Range(100, 16).Select(i => (byte)i), 1];

    [Fact]
    public async Task CopyAsync_WhenHandshakeIs38WithNoAuthentication_ForwardsItExactly()
    {
        var (result, forwarded) = await RunAsync(HandshakeNone);

        result.Should().Be(new RfbFilterResult(RfbFilterOutcome.Ended, null, 0, 0, HandshakeNone.Length));
        forwarded.Should().Equal(HandshakeNone);
    }

    [Fact]
    public async Task CopyAsync_WhenHandshakeIs38WithVncAuthentication_ForwardsItExactly()
    {
        var (result, forwarded) = await RunAsync(HandshakeVncAuth);

        result.Should().Be(new RfbFilterResult(RfbFilterOutcome.Ended, null, 0, 0, HandshakeVncAuth.Length));
        forwarded.Should().Equal(HandshakeVncAuth);
    }

    [Fact]
    public async Task CopyAsync_WhenHandshakeIs37_ForwardsIt()
    {
        byte[] input = [.. "RFB 003.007\n"u8, 1, 1, .. FramebufferUpdateRequest()];

        var (result, forwarded) = await RunAsync(input);

        result.Outcome.Should().Be(RfbFilterOutcome.Ended);
        forwarded.Should().Equal(input);
    }

    [Fact]
    public async Task CopyAsync_WhenVersionIs33_ReportsViolationAndForwardsNothing()
    {
        byte[] input = [.. "RFB 003.003\n"u8, 0, .. FramebufferUpdateRequest()];

        var (result, forwarded) = await RunAsync(input);

        result.Outcome.Should().Be(RfbFilterOutcome.Violation);
        result.Violation.Should().Be("unsupported RFB version 'RFB 003.003'");
        forwarded.Should().BeEmpty();
    }

    [Fact]
    public async Task CopyAsync_WhenSecurityTypeIsUnsupported_ReportsViolationAfterTheVersion()
    {
        byte[] input = [.. "RFB 003.008\n"u8, 19, 0, 2];

        var (result, forwarded) = await RunAsync(input);

        result.Outcome.Should().Be(RfbFilterOutcome.Violation);
        result.Violation.Should().Be("unsupported RFB security type 19");
        forwarded.Should().Equal("RFB 003.008\n"u8.ToArray());
    }

    [Fact]
    public async Task CopyAsync_WhenSessionMixesViewAndInputMessages_ForwardsOnlyViewMessages()
    {
        var (input, expected) = MixedSession();

        var (result, forwarded) = await RunAsync(input);

        result.Should().Be(new RfbFilterResult(RfbFilterOutcome.Ended, null, 6, 10, expected.Length));
        forwarded.Should().Equal(expected);
    }

    [Fact]
    public async Task CopyAsync_WhenClientDeliversOneBytePerRead_ForwardsTheSameBytes()
    {
        var (input, expected) = MixedSession();

        var (result, forwarded) = await RunAsync(input, maxChunk: 1);

        result.Should().Be(new RfbFilterResult(RfbFilterOutcome.Ended, null, 6, 10, expected.Length));
        forwarded.Should().Equal(expected);
    }

    [Fact]
    public async Task CopyAsync_WhenAllowedMessagesArriveTogether_WritesThemInOneBatch()
    {
        byte[] input = [.. HandshakeNone, .. SetPixelFormat(), .. SetEncodings(0, 16, -223), .. FramebufferUpdateRequest(), .. FramebufferUpdateRequest()];
        using var server = new CountingStream();

        var result = await RfbViewOnlyFilter.CopyAsync(new MemoryStream(input), server, CancellationToken.None);

        result.MessagesForwarded.Should().Be(4);
        server.ToArray().Should().Equal(input);
        server.Writes.Should().Be(1);
    }

    [Fact]
    public async Task CopyAsync_WhenMessageTypeIsUnknown_ForwardsEarlierMessagesAndStops()
    {
        byte[] input = [.. HandshakeNone, .. SetPixelFormat(), .. KeyEvent(), .. FramebufferUpdateRequest(), 7, .. FramebufferUpdateRequest()];

        var (result, forwarded) = await RunAsync(input);

        result.Should().Be(new RfbFilterResult(RfbFilterOutcome.Violation, "unknown client message type 7", 2, 1, 12 + 2 + 20 + 10));
        forwarded.Should().Equal([.. HandshakeNone, .. SetPixelFormat(), .. FramebufferUpdateRequest()]);
    }

    [Fact]
    public async Task CopyAsync_WhenSetEncodingsNamesEncodingsTheServerHalfCannotParse_ForwardsOnlyTheOthersInOrder()
    {
        const int extendedClipboard = unchecked((int)0xC0A1E5CE);
        byte[] input = [.. HandshakeNone, .. SetEncodings(7, 16, extendedClipboard, 5, -260, -223, 0, -32), .. FramebufferUpdateRequest()];

        var (result, forwarded) = await RunAsync(input, maxChunk: 5);

        forwarded.Should().Equal([.. HandshakeNone, .. SetEncodings(16, 5, -223, 0, -32), .. FramebufferUpdateRequest()]);
        result.Should().Be(new RfbFilterResult(RfbFilterOutcome.Ended, null, 2, 0, forwarded.Length));
    }

    [Fact]
    public async Task CopyAsync_WhenPixelFormatChangesAfterTheFirstUpdateRequest_ReportsViolation()
    {
        byte[] sixteenBits = [0, 0, 0, 0, 16, 16, 0, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0, 0, 0, 0];
        byte[] input = [.. HandshakeNone, .. SetPixelFormat(), .. FramebufferUpdateRequest(), .. SetPixelFormat(), .. sixteenBits, .. FramebufferUpdateRequest()];

        var (result, forwarded) = await RunAsync(input);

        result.Outcome.Should().Be(RfbFilterOutcome.Violation);
        result.Violation.Should().Be("SetPixelFormat to 16 bits per pixel after the first update request is not supported while only watching");
        forwarded.Should().Equal([.. HandshakeNone, .. SetPixelFormat(), .. FramebufferUpdateRequest(), .. SetPixelFormat()], "the same format again changes nothing");
    }

    [Fact]
    public async Task CopyAsync_WhenPixelFormatIsNot8Or16Or32Bits_ReportsViolation()
    {
        byte[] input = [.. HandshakeNone, 0, 0, 0, 0, 24, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0];

        var (result, forwarded) = await RunAsync(input);

        result.Violation.Should().Be("SetPixelFormat with 24 bits per pixel is not valid RFB");
        forwarded.Should().Equal(HandshakeNone);
    }

    public static TheoryData<byte[], string> Violations => new()
    {
        { [2, 0, 0x04, 0x01], "SetEncodings with 1025 encodings exceeds the limit of 1024" },
        { [6, 0, 0, 0, 0x01, 0x00, 0x00, 0x01], "ClientCutText of 16777217 bytes exceeds the limit of 16777216" },
        { [6, 0, 0, 0, 0xFE, 0xFF, 0xFF, 0xFF], "ClientCutText of 16777217 bytes exceeds the limit of 16777216" },
        { [6, 0, 0, 0, 0x80, 0x00, 0x00, 0x00], "ClientCutText of 2147483648 bytes exceeds the limit of 16777216" },
        { [248, 0, 0, 0, 0, 0, 0, 0, 65], "ClientFence with a 65-byte payload exceeds the limit of 64" },
        { [251, 0, 0, 1, 0, 1, 65, 0], "SetDesktopSize with 65 screens exceeds the limit of 64" },
        { [255, 1, 0, 0], "unknown QEMU client message subtype 1" },
        { [1, 0, 0, 0], "unknown client message type 1" },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public async Task CopyAsync_WhenMessageBreaksALimit_ReportsViolationAndForwardsNothingAfter(byte[] message, string violation)
    {
        byte[] input = [.. HandshakeNone, .. FramebufferUpdateRequest(), .. message, .. new byte[5000]];

        var (result, forwarded) = await RunAsync(input);

        result.Outcome.Should().Be(RfbFilterOutcome.Violation);
        result.Violation.Should().Be(violation);
        forwarded.Should().Equal([.. HandshakeNone, .. FramebufferUpdateRequest()]);
    }

    [Theory]
    [InlineData(5, 0)] // inside the version
    [InlineData(13, 13)] // inside the VNC authentication response: the version and the security type went ahead of it
    [InlineData(35, 30)] // inside SetPixelFormat
    [InlineData(30 + 20 + 8 + 300, 50)] // inside the text of ClientCutText
    [InlineData(30 + 20 + 1008 + 6, 50)] // inside SetEncodings
    public async Task CopyAsync_WhenClientEndsMidMessage_ForwardsOnlyCompleteMessages(int length, int expectedLength)
    {
        byte[] complete = [.. HandshakeVncAuth, .. SetPixelFormat(), .. ClientCutText(1000), .. SetEncodings(1, 2, 3)];

        var (result, forwarded) = await RunAsync(complete[..length], maxChunk: 7);

        result.Outcome.Should().Be(RfbFilterOutcome.Ended);
        forwarded.Should().Equal(complete[..expectedLength]);
        result.BytesForwarded.Should().Be(expectedLength);
    }

    [Fact]
    public async Task CopyAsync_WhenEachStepWaitsForTheServer_ForwardsEachStepBeforeReadingTheNext()
    {
        (byte[] Bytes, int Forwarded)[] steps =
        [
            ("RFB 003.008\n"u8.ToArray(), 12),
            ([2], 1),
            ([.. Enumerable.Range(0, 16).Select(i => (byte)i)], 16),
            ([1], 1),
            ([.. SetPixelFormat(), .. KeyEvent(), .. SetEncodings(0)], 20 + 8),
            (FramebufferUpdateRequest(), 10),
            (FramebufferUpdateRequest(), 10),
        ];
        using var server = new MemoryStream();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        var result = await RfbViewOnlyFilter.CopyAsync(new TurnTakingClientStream(steps, server), server, deadline.Token);

        result.Should().Be(new RfbFilterResult(RfbFilterOutcome.Ended, null, 4, 1, 30 + 10 + 20 + 8 + 10));
    }

    [Fact]
    public async Task CopyAsync_WhenCancelledWhileWaiting_ThrowsOperationCanceledException()
    {
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));

        var act = () => RfbViewOnlyFilter.CopyAsync(new NeverEndingStream(), Stream.Null, cancellation.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    [Trait("Category", "Fuzz")]
    public async Task CopyAsync_WhenFedRandomMessageStreams_NeverForwardsInput()
    {
        await Fuzz.RunAsync(6143, 2000, async random =>
        {
            var input = RandomSession(random);

            var (result, forwarded) = await RunAsync(input, maxChunk: random.Next(1, 64), seed: random.Next());

            AssertOnlyViewMessages(forwarded, result);
        });
    }

    [Fact]
    [Trait("Category", "Fuzz")]
    public async Task CopyAsync_WhenFedRandomHandshakes_NeverForwardsInput()
    {
        byte[][] prefixes = [[], "RFB 003.008\n"u8.ToArray(), "RFB 003.007\n"u8.ToArray(), "RFB 003.003\n"u8.ToArray(), "RFB 003.00"u8.ToArray()];

        await Fuzz.RunAsync(6143 * 2, 1000, async random =>
        {
            var prefix = prefixes[random.Next(prefixes.Length)];
            var tail = new byte[random.Next(0, 40)];
            random.NextBytes(tail);
            if (tail.Length > 0 && random.Next(2) == 0)
            {
                tail[0] = (byte)random.Next(0, 4);
            }

            var (result, forwarded) = await RunAsync([.. prefix, .. tail], maxChunk: random.Next(1, 16), seed: random.Next());

            AssertOnlyViewMessages(forwarded, result);
        });
    }

    private static async Task<(RfbFilterResult Result, byte[] Forwarded)> RunAsync(byte[] input, int maxChunk = int.MaxValue, int seed = 0)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var server = new MemoryStream();
        var result = await RfbViewOnlyFilter.CopyAsync(new ChunkedReadStream(input, maxChunk, seed), server, deadline.Token);
        return (result, server.ToArray());
    }

    private static (byte[] Input, byte[] Expected) MixedSession()
    {
        var extendedText = Enumerable.Range(0, 300).Select(i => (byte)i).ToArray();
        byte[] input =
        [
            .. HandshakeVncAuth,
            .. SetPixelFormat(),
            .. SetEncodings(16, 1, 0, -239, -223, 0x574D5669),
            .. PointerEvent(),
            .. FramebufferUpdateRequest(),
            .. KeyEvent(),
            .. KeyEvent(),
            .. ClientCutText(5),
            .. ClientCutText(1024 * 1024),
            .. ClientCutTextHeader(-extendedText.Length), .. extendedText,
            .. QemuKeyEvent(),
            .. SetDesktopSize(2),
            .. EnableContinuousUpdates(),
            .. ClientFence(64),
            .. PointerEvent(),
            .. SetDesktopSize(0),
            .. FramebufferUpdateRequest(),
        ];
        byte[] expected =
        [
            .. HandshakeVncAuth,
            .. SetPixelFormat(),
            .. SetEncodings(16, 1, 0, -239, -223),
            .. FramebufferUpdateRequest(),
            .. EnableContinuousUpdates(),
            .. ClientFence(64),
            .. FramebufferUpdateRequest(),
        ];
        return (input, expected);
    }

    /// <summary>Mostly well-formed messages of every type with random fields, some mutated, some garbage, cut at a random point.</summary>
    private static byte[] RandomSession(Random random)
    {
        var bytes = new List<byte>(random.Next(2) == 0 ? HandshakeNone : HandshakeVncAuth);
        var messages = random.Next(0, 20);
        for (var i = 0; i < messages; i++)
        {
            byte[] message = random.Next(12) switch
            {
                0 => SetPixelFormat(),
                1 => SetEncodings([.. Enumerable.Range(0, random.Next(0, 20)).Select(_ => random.Next())]),
                2 => FramebufferUpdateRequest(),
                3 => KeyEvent(),
                4 => PointerEvent(),
                5 => ClientCutText(random.Next(0, 3000)),
                6 => [.. ClientCutTextHeader(-random.Next(0, 200)), .. new byte[200]],
                7 => EnableContinuousUpdates(),
                8 => ClientFence(random.Next(0, 70)),
                9 => SetDesktopSize(random.Next(0, 70)),
                10 => QemuKeyEvent(),
                _ => RandomBytes(random, random.Next(1, 30)),
            };
            if (random.Next(8) == 0)
            {
                message[random.Next(message.Length)] = (byte)random.Next(256);
            }

            bytes.AddRange(message);
        }

        var all = bytes.ToArray();
        return random.Next(4) == 0 ? all[..random.Next(0, all.Length + 1)] : all;
    }

    /// <summary>An independent re-parse of what reached the server: complete messages only, none of them input.</summary>
    private static void AssertOnlyViewMessages(byte[] forwarded, RfbFilterResult result)
    {
        result.BytesForwarded.Should().Be(forwarded.Length);
        result.Outcome.Should().Be(result.Violation is null ? RfbFilterOutcome.Ended : RfbFilterOutcome.Violation);
        if (forwarded.Length == 0)
        {
            result.MessagesForwarded.Should().Be(0);
            return;
        }

        // The handshake goes out step by step (version, security type, VNC authentication response, ClientInit) and may stop after any step.
        forwarded.Length.Should().BeGreaterThanOrEqualTo(12);
        var version = forwarded.AsSpan(0, 12);
        (version.SequenceEqual("RFB 003.008\n"u8) || version.SequenceEqual("RFB 003.007\n"u8)).Should().BeTrue();
        if (forwarded.Length == 12)
        {
            return;
        }

        forwarded[12].Should().BeOneOf(1, 2);
        var handshake = 13;
        if (forwarded[12] == 2)
        {
            (forwarded.Length == 13 || forwarded.Length >= 29).Should().BeTrue("the authentication response is forwarded whole");
            handshake = 29;
        }

        if (forwarded.Length <= handshake)
        {
            return;
        }

        handshake++;
        var position = handshake;
        var messages = 0;
        while (position < forwarded.Length)
        {
            var rest = forwarded.AsSpan(position);
            var length = rest[0] switch
            {
                0 => 20,
                2 => 4 + (4 * BinaryPrimitives.ReadUInt16BigEndian(rest[2..])),
                3 => 10,
                150 => 10,
                248 => 9 + rest[8],
                var type => throw new Xunit.Sdk.XunitException($"message type {type} reached the server at offset {position}"),
            };
            if (rest[0] == 2)
            {
                var encodings = new List<int>();
                for (var i = 0; i < BinaryPrimitives.ReadUInt16BigEndian(rest[2..]); i++)
                {
                    encodings.Add(BinaryPrimitives.ReadInt32BigEndian(rest[(4 + (4 * i))..]));
                }

                encodings.Where(e => !RfbViewOnlySession.CanParse(e)).Should().BeEmpty("the server half must be able to measure every rectangle");
            }

            position += length;
            messages++;
        }

        position.Should().Be(forwarded.Length, "only complete messages are forwarded");
        result.MessagesForwarded.Should().Be(messages);
    }

    private static byte[] SetPixelFormat() => [0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0];

    private static byte[] SetEncodings(params int[] encodings)
    {
        var message = new byte[4 + (4 * encodings.Length)];
        message[0] = 2;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), (ushort)encodings.Length);
        for (var i = 0; i < encodings.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(4 + (4 * i)), encodings[i]);
        }

        return message;
    }

    private static byte[] FramebufferUpdateRequest() => [3, 1, 0, 0, 0, 0, 7, 128, 4, 56];

    private static byte[] KeyEvent() => [4, 1, 0, 0, 0, 0, 0xFF, 0x0D];

    private static byte[] PointerEvent() => [5, 1, 0, 100, 0, 200];

    private static byte[] ClientCutTextHeader(int length)
    {
        var header = new byte[8];
        header[0] = 6;
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), length);
        return header;
    }

    private static byte[] ClientCutText(int length) => [.. ClientCutTextHeader(length), .. Enumerable.Repeat((byte)'x', length)];

    private static byte[] EnableContinuousUpdates() => [150, 1, 0, 0, 0, 0, 7, 128, 4, 56];

    private static byte[] ClientFence(int payload) => [248, 0, 0, 0, 0x80, 0, 0, 3, (byte)payload, .. Enumerable.Repeat((byte)0xAB, payload)];

    private static byte[] SetDesktopSize(int screens) => [251, 0, 7, 128, 4, 56, (byte)screens, 0, .. new byte[16 * screens]];

    private static byte[] QemuKeyEvent() => [255, 0, 0, 1, 0, 0, 0, 0x61, 0, 0, 0, 0x1E];

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>A client that delivers its bytes in reads of 1 to <c>maxChunk</c> bytes.</summary>
    private sealed class ChunkedReadStream(byte[] data, int maxChunk, int seed) : Stream
    {
        private readonly byte[] _data = data;
        private readonly int _maxChunk = maxChunk;
        private readonly Random _random = new(seed);
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var limit = _maxChunk == int.MaxValue ? int.MaxValue : _random.Next(1, _maxChunk + 1);
            var count = Math.Min(Math.Min(buffer.Length, limit), _data.Length - _position);
            _data.AsSpan(_position, count).CopyTo(buffer);
            _position += count;
            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A client that never sends anything.</summary>
    private sealed class NeverEndingStream : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A client that sends its next step only once the server has received everything before it, like a real handshake.</summary>
    private sealed class TurnTakingClientStream((byte[] Bytes, int Forwarded)[] steps, MemoryStream server) : Stream
    {
        private readonly (byte[] Bytes, int Forwarded)[] _steps = steps;
        private readonly MemoryStream _server = server;
        private int _step;
        private int _offset;
        private long _forwardedBefore;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_step == _steps.Length)
            {
                return ValueTask.FromResult(0);
            }

            if (_offset == 0 && _server.Length != _forwardedBefore)
            {
                throw new InvalidOperationException($"step {_step} was read before the server had step {_step - 1}: a real peer would wait forever");
            }

            var bytes = _steps[_step].Bytes;
            var count = Math.Min(buffer.Length, bytes.Length - _offset);
            bytes.AsSpan(_offset, count).CopyTo(buffer.Span);
            _offset += count;
            if (_offset == bytes.Length)
            {
                _forwardedBefore += _steps[_step].Forwarded;
                _step++;
                _offset = 0;
            }

            return ValueTask.FromResult(count);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A server that counts writes.</summary>
    private sealed class CountingStream : MemoryStream
    {
        public int Writes { get; private set; }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes++;
            return base.WriteAsync(buffer, cancellationToken);
        }
    }
}
