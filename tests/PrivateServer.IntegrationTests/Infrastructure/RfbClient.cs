using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace PrivateServer.IntegrationTests.Infrastructure;

/// <summary>
/// A minimal RFB 3.8 client of our own (RFC 6143): security type None, Raw encoding, one pixel at a
/// time, pointer and key events. It checks what a real VNC server (directly or through the relay)
/// delivers. One call at a time: it is not safe for concurrent use.
/// </summary>
public sealed class RfbClient : IAsyncDisposable
{
    private const string Version38 = "RFB 003.008\n";
    private const byte SecurityNone = 1;
    private const int MaxStringLength = 1 << 20;
    private const int SkipChunkLength = 64 * 1024;

    private readonly Stream _stream;
    private readonly TcpClient? _tcp;
    private readonly List<string> _cutTexts = [];
    private bool _pixelFormatSent;

    private RfbClient(Stream stream, TcpClient? tcp)
    {
        _stream = stream;
        _tcp = tcp;
    }

    public int Width { get; private set; }

    public int Height { get; private set; }

    public string Name { get; private set; } = "";

    /// <summary>The pixel format the server announced in ServerInit (pixels are read in our own format).</summary>
    public RfbPixelFormat ServerPixelFormat { get; private set; }

    /// <summary>Connects over TCP and completes the handshake up to ServerInit.</summary>
    public static async Task<RfbClient> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(host, port, cancellationToken);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }

        return await HandshakeAsync(new RfbClient(tcp.GetStream(), tcp), cancellationToken);
    }

    /// <summary>Completes the handshake over a stream that is already connected; the client owns the stream from now on.</summary>
    public static Task<RfbClient> ConnectAsync(Stream stream, CancellationToken cancellationToken) =>
        HandshakeAsync(new RfbClient(stream, tcp: null), cancellationToken);

    /// <summary>
    /// Reads one pixel: asks for our pixel format (32 bpp, depth 24, true colour, little-endian,
    /// shifts 16/8/0) and Raw encoding once, then a non-incremental update of the 1x1 region.
    /// </summary>
    public async Task<(byte R, byte G, byte B)> ReadPixelAsync(int x, int y, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(x);
        ArgumentOutOfRangeException.ThrowIfNegative(y);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(x, Width);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(y, Height);
        if (!_pixelFormatSent)
        {
            await WriteAsync(SetPixelFormatMessage(), cancellationToken);
            await WriteAsync(SetEncodingsRawMessage(), cancellationToken);
            _pixelFormatSent = true;
        }

        await RequestUpdateAsync(x, y, cancellationToken);
        while (true)
        {
            var type = await ReadU8Async(cancellationToken);
            switch (type)
            {
                case 0: // FramebufferUpdate
                    var pixel = await ReadFramebufferUpdateAsync(x, y, cancellationToken);
                    if (pixel is { } found)
                    {
                        return found;
                    }

                    // An update that did not cover the point (one asked for earlier): ask again.
                    await RequestUpdateAsync(x, y, cancellationToken);
                    break;
                case 1: // SetColourMapEntries: padding, first-colour, number-of-colours, 6 bytes each
                    var colourMap = await ReadBytesAsync(5, cancellationToken);
                    await SkipAsync(BinaryPrimitives.ReadUInt16BigEndian(colourMap.AsSpan(3)) * 6L, -1, cancellationToken);
                    break;
                case 2: // Bell
                    break;
                case 3: // ServerCutText: padding, length, text
                    await ReadCutTextAsync(cancellationToken);
                    break;
                default:
                    throw new InvalidDataException($"Unexpected RFB server message type {type}.");
            }
        }
    }

    /// <summary>Every ServerCutText (the host's clipboard) this client has read so far, in order.</summary>
    public IReadOnlyList<string> CutTexts => _cutTexts;

    /// <summary>Reads server messages until a ServerCutText arrives (asking for no updates meanwhile) and returns its text.</summary>
    public async Task<string> WaitForCutTextAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var type = await ReadU8Async(cancellationToken);
            switch (type)
            {
                case 0:
                    await ReadFramebufferUpdateAsync(0, 0, cancellationToken);
                    break;
                case 2:
                    break;
                case 3:
                    return await ReadCutTextAsync(cancellationToken);
                default:
                    throw new InvalidDataException($"Unexpected RFB server message type {type} while waiting for the clipboard.");
            }
        }
    }

    /// <summary>ClientCutText: puts Latin-1 <paramref name="text"/> on the server's clipboard.</summary>
    public Task SendCutTextAsync(string text, CancellationToken cancellationToken)
    {
        var bytes = Encoding.Latin1.GetBytes(text);
        var message = new byte[8 + bytes.Length];
        message[0] = 6;
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(4), bytes.Length);
        bytes.CopyTo(message, 8);
        return WriteAsync(message, cancellationToken);
    }

    /// <summary>PointerEvent: button mask (bit 0 = left) at (x, y).</summary>
    public Task SendPointerAsync(int x, int y, byte buttons, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(x);
        ArgumentOutOfRangeException.ThrowIfNegative(y);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(x, ushort.MaxValue);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(y, ushort.MaxValue);
        var message = new byte[6];
        message[0] = 5;
        message[1] = buttons;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), (ushort)x);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4), (ushort)y);
        return WriteAsync(message, cancellationToken);
    }

    /// <summary>KeyEvent: an X keysym pressed or released.</summary>
    public Task SendKeyAsync(uint keysym, bool down, CancellationToken cancellationToken)
    {
        var message = new byte[8];
        message[0] = 4;
        message[1] = down ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(4), keysym);
        return WriteAsync(message, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp?.Dispose();
    }

    private static async Task<RfbClient> HandshakeAsync(RfbClient client, CancellationToken cancellationToken)
    {
        try
        {
            await client.HandshakeAsync(cancellationToken);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    private async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        var banner = Encoding.Latin1.GetString(await ReadBytesAsync(12, cancellationToken));
        if (!banner.StartsWith("RFB ", StringComparison.Ordinal) || !banner.EndsWith('\n'))
        {
            throw new InvalidDataException($"Not an RFB server: it greeted with \"{Printable(banner)}\".");
        }

        if (!string.Equals(banner, Version38, StringComparison.Ordinal))
        {
            throw new NotSupportedException($"The server speaks \"{Printable(banner)}\"; this client speaks RFB 003.008 only.");
        }

        await WriteAsync(Encoding.ASCII.GetBytes(Version38), cancellationToken);

        var count = await ReadU8Async(cancellationToken);
        if (count == 0)
        {
            var reason = await ReadStringAsync(cancellationToken);
            throw new InvalidDataException($"The RFB server offers no security type: {reason}");
        }

        var types = await ReadBytesAsync(count, cancellationToken);
        if (Array.IndexOf(types, SecurityNone) < 0)
        {
            var offered = string.Join(", ", types.Select(t => t.ToString(CultureInfo.InvariantCulture)));
            throw new NotSupportedException($"The RFB server does not offer security type None (1); it offers {offered}.");
        }

        await WriteAsync([SecurityNone], cancellationToken);
        var result = BinaryPrimitives.ReadUInt32BigEndian(await ReadBytesAsync(4, cancellationToken));
        if (result != 0)
        {
            var reason = await ReadStringAsync(cancellationToken);
            throw new InvalidDataException($"The RFB server failed security type None (result {result}): {reason}");
        }

        await WriteAsync([1], cancellationToken); // ClientInit: shared
        var init = await ReadBytesAsync(20, cancellationToken);
        Width = BinaryPrimitives.ReadUInt16BigEndian(init.AsSpan(0));
        Height = BinaryPrimitives.ReadUInt16BigEndian(init.AsSpan(2));
        ServerPixelFormat = RfbPixelFormat.Parse(init.AsSpan(4, 16));
        Name = await ReadStringAsync(cancellationToken);
    }

    /// <summary>Reads the rectangles of one FramebufferUpdate; returns the pixel at (x, y) if one of them holds it.</summary>
    private async Task<(byte R, byte G, byte B)?> ReadFramebufferUpdateAsync(int x, int y, CancellationToken cancellationToken)
    {
        var header = await ReadBytesAsync(3, cancellationToken);
        var rectangles = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(1));
        (byte R, byte G, byte B)? pixel = null;
        for (var i = 0; i < rectangles; i++)
        {
            var rectangle = await ReadBytesAsync(12, cancellationToken);
            int left = BinaryPrimitives.ReadUInt16BigEndian(rectangle.AsSpan(0));
            int top = BinaryPrimitives.ReadUInt16BigEndian(rectangle.AsSpan(2));
            int width = BinaryPrimitives.ReadUInt16BigEndian(rectangle.AsSpan(4));
            int height = BinaryPrimitives.ReadUInt16BigEndian(rectangle.AsSpan(6));
            var encoding = BinaryPrimitives.ReadInt32BigEndian(rectangle.AsSpan(8));
            if (encoding != 0)
            {
                throw new InvalidDataException($"The RFB server sent a rectangle in encoding {encoding}; only Raw (0) was asked for.");
            }

            var holdsPoint = x >= left && x < left + width && y >= top && y < top + height;
            var offset = holdsPoint ? (((long)(y - top) * width) + (x - left)) * 4 : -1;
            var captured = await SkipAsync((long)width * height * 4, offset, cancellationToken);
            if (holdsPoint)
            {
                // Little-endian 32 bpp with shifts 16/8/0: the bytes are blue, green, red, unused.
                pixel = (captured[2], captured[1], captured[0]);
            }
        }

        return pixel;
    }

    /// <summary>Reads and drops <paramref name="length"/> bytes through a pooled buffer, keeping the 4 at <paramref name="captureOffset"/> (4-aligned) if not -1.</summary>
    private async Task<byte[]> SkipAsync(long length, long captureOffset, CancellationToken cancellationToken)
    {
        var captured = new byte[4];
        var buffer = ArrayPool<byte>.Shared.Rent(SkipChunkLength);
        try
        {
            for (long position = 0; position < length;)
            {
                // Chunks are multiples of 4 long, so a 4-aligned pixel never straddles two chunks.
                var chunk = (int)Math.Min(SkipChunkLength, length - position);
                await _stream.ReadExactlyAsync(buffer.AsMemory(0, chunk), cancellationToken);
                if (captureOffset >= position && captureOffset < position + chunk)
                {
                    buffer.AsSpan((int)(captureOffset - position), 4).CopyTo(captured);
                }

                position += chunk;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return captured;
    }

    private Task RequestUpdateAsync(int x, int y, CancellationToken cancellationToken)
    {
        var message = new byte[10];
        message[0] = 3;
        message[1] = 0; // not incremental
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), (ushort)x);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4), (ushort)y);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(6), 1);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(8), 1);
        return WriteAsync(message, cancellationToken);
    }

    private static byte[] SetPixelFormatMessage()
    {
        var message = new byte[20];
        message[0] = 0;
        message[4] = 32; // bits per pixel
        message[5] = 24; // depth
        message[6] = 0; // little-endian
        message[7] = 1; // true colour
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(8), 255);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(10), 255);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(12), 255);
        message[14] = 16;
        message[15] = 8;
        message[16] = 0;
        return message;
    }

    private static byte[] SetEncodingsRawMessage()
    {
        var message = new byte[8];
        message[0] = 2;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), 1);
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(4), 0);
        return message;
    }

    private async Task<string> ReadCutTextAsync(CancellationToken cancellationToken)
    {
        var header = await ReadBytesAsync(7, cancellationToken);
        var length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(3));
        if (length > MaxStringLength)
        {
            throw new InvalidDataException($"The RFB server sent a clipboard of {length} bytes.");
        }

        var text = Encoding.Latin1.GetString(await ReadBytesAsync((int)length, cancellationToken));
        _cutTexts.Add(text);
        return text;
    }

    private async Task<string> ReadStringAsync(CancellationToken cancellationToken)
    {
        var length = BinaryPrimitives.ReadUInt32BigEndian(await ReadBytesAsync(4, cancellationToken));
        if (length > MaxStringLength)
        {
            throw new InvalidDataException($"The RFB server sent a string of {length} bytes.");
        }

        return Encoding.UTF8.GetString(await ReadBytesAsync((int)length, cancellationToken));
    }

    private async Task<byte> ReadU8Async(CancellationToken cancellationToken) => (await ReadBytesAsync(1, cancellationToken))[0];

    private async Task<byte[]> ReadBytesAsync(int count, CancellationToken cancellationToken)
    {
        var bytes = new byte[count];
        await _stream.ReadExactlyAsync(bytes, cancellationToken);
        return bytes;
    }

    private async Task WriteAsync(byte[] message, CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(message, cancellationToken);
        await _stream.FlushAsync(cancellationToken);
    }

    private static string Printable(string text) =>
        text.Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal);
}

/// <summary>An RFB PIXEL_FORMAT (RFC 6143, 7.4).</summary>
public readonly record struct RfbPixelFormat(
    byte BitsPerPixel,
    byte Depth,
    bool BigEndian,
    bool TrueColour,
    ushort RedMax,
    ushort GreenMax,
    ushort BlueMax,
    byte RedShift,
    byte GreenShift,
    byte BlueShift)
{
    public static RfbPixelFormat Parse(ReadOnlySpan<byte> bytes) => new(
        bytes[0],
        bytes[1],
        bytes[2] != 0,
        bytes[3] != 0,
        BinaryPrimitives.ReadUInt16BigEndian(bytes[4..]),
        BinaryPrimitives.ReadUInt16BigEndian(bytes[6..]),
        BinaryPrimitives.ReadUInt16BigEndian(bytes[8..]),
        bytes[10],
        bytes[11],
        bytes[12]);
}
