using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace PrivateServer.SupporterModule.Session;

/// <summary>
/// The clipboard over one RFB (RFC 6143) stream to the host's screen: ClientCutText puts text on the host's clipboard,
/// ServerCutText is what the host's user copied. RFB carries clipboard text as ISO 8859-1 (Latin-1). Only servers that
/// need no VNC password are spoken to (the host module's screen service sits on the host's loopback).
/// </summary>
internal static class RfbClipboard
{
    /// <summary>The most text sent in one go (the host's view-only filter allows 16 MiB; a clipboard is far smaller).</summary>
    public const int MaxTextLength = 1024 * 1024;

    private const byte SecurityNone = 1;
    private const int SkipChunk = 64 * 1024;

    /// <summary>Latin-1 bytes for <paramref name="text"/> and how many characters had no Latin-1 form ('?' instead).</summary>
    public static (byte[] Bytes, int Replaced) ToLatin1(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var bytes = new byte[text.Length];
        var replaced = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c > 0xFF)
            {
                replaced++;
                bytes[i] = (byte)'?';
            }
            else
            {
                bytes[i] = (byte)c;
            }
        }

        return (bytes, replaced);
    }

    /// <summary>Puts <paramref name="latin1"/> on the host's clipboard and waits until the server has read it (a 1x1 update comes back after it).</summary>
    public static async Task<int> SendAsync(Stream rfb, byte[] latin1, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rfb);
        ArgumentNullException.ThrowIfNull(latin1);
        if (latin1.Length > MaxTextLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"the text is {latin1.Length} bytes long; the clipboard takes at most {MaxTextLength}"));
        }

        await HandshakeAsync(rfb, cancellationToken);
        var message = new byte[8 + latin1.Length];
        message[0] = 6;
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(4), latin1.Length);
        latin1.CopyTo(message, 8);
        // The server reads messages in order: once the update asked for after the text arrives, the text was taken.
        byte[] request = [3, 0, 0, 0, 0, 0, 0, 1, 0, 1];
        await rfb.WriteAsync(message.Concat(request).ToArray(), cancellationToken);
        await rfb.FlushAsync(cancellationToken);
        await ReadMessagesAsync(rfb, _ => Task.FromResult(true), untilUpdate: true, cancellationToken);
        return latin1.Length;
    }

    /// <summary>Hands each text the host's user copies to <paramref name="onText"/> until it returns false (or the stream ends: throws).</summary>
    public static async Task WatchAsync(Stream rfb, Func<string, Task<bool>> onText, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rfb);
        ArgumentNullException.ThrowIfNull(onText);
        await HandshakeAsync(rfb, cancellationToken);
        await ReadMessagesAsync(rfb, onText, untilUpdate: false, cancellationToken);
    }

    /// <summary>RFB 3.8 (or 3.7), security type None, shared; then 32-bit pixels and Raw only, so any update is easy to skip.</summary>
    private static async Task HandshakeAsync(Stream rfb, CancellationToken cancellationToken)
    {
        var version = await ReadAsync(rfb, 12, cancellationToken);
        var greeting = Encoding.Latin1.GetString(version);
        if (!greeting.StartsWith("RFB 003.", StringComparison.Ordinal) || !int.TryParse(greeting.AsSpan(8, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var minor) || minor < 7)
        {
            throw new IOException($"the host's screen service does not speak RFB 3.7 or later (it said '{greeting.TrimEnd('\n')}')");
        }

        minor = Math.Min(minor, 8);
        await WriteAsync(rfb, Encoding.ASCII.GetBytes(minor == 8 ? "RFB 003.008\n" : "RFB 003.007\n"), cancellationToken);
        var count = (await ReadAsync(rfb, 1, cancellationToken))[0];
        if (count == 0)
        {
            throw new IOException("the host's VNC server refused the connection: " + await ReadReasonAsync(rfb, cancellationToken));
        }

        var types = await ReadAsync(rfb, count, cancellationToken);
        if (Array.IndexOf(types, SecurityNone) < 0)
        {
            throw new IOException("the host's VNC server asks for a password; the clipboard verb speaks to servers without one (as the host module's loopback screen service)");
        }

        await WriteAsync(rfb, [SecurityNone], cancellationToken);
        if (minor == 8 && BinaryPrimitives.ReadUInt32BigEndian(await ReadAsync(rfb, 4, cancellationToken)) != 0)
        {
            throw new IOException("the host's VNC server refused the connection: " + await ReadReasonAsync(rfb, cancellationToken));
        }

        await WriteAsync(rfb, [1], cancellationToken);
        var init = await ReadAsync(rfb, 24, cancellationToken);
        await SkipAsync(rfb, BinaryPrimitives.ReadUInt32BigEndian(init.AsSpan(20)), cancellationToken);
        byte[] pixelFormat = [0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0];
        byte[] rawOnly = [2, 0, 0, 1, 0, 0, 0, 0];
        await WriteAsync(rfb, [.. pixelFormat, .. rawOnly], cancellationToken);
    }

    private static async Task ReadMessagesAsync(Stream rfb, Func<string, Task<bool>> onText, bool untilUpdate, CancellationToken cancellationToken)
    {
        while (true)
        {
            var type = (await ReadAsync(rfb, 1, cancellationToken))[0];
            switch (type)
            {
                case 0: // FramebufferUpdate: Raw rectangles of 4-byte pixels only (the pseudo-encodings were not asked for).
                    var rectangles = BinaryPrimitives.ReadUInt16BigEndian((await ReadAsync(rfb, 3, cancellationToken)).AsSpan(1));
                    for (var i = 0; i < rectangles; i++)
                    {
                        var header = await ReadAsync(rfb, 12, cancellationToken);
                        var encoding = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(8));
                        if (encoding != 0)
                        {
                            throw new IOException(string.Create(CultureInfo.InvariantCulture, $"the host's VNC server sent encoding {encoding}, which was not asked for"));
                        }

                        await SkipAsync(rfb, 4L * BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(4)) * BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(6)), cancellationToken);
                    }

                    if (untilUpdate)
                    {
                        return;
                    }

                    break;
                case 1: // SetColourMapEntries
                    var colours = BinaryPrimitives.ReadUInt16BigEndian((await ReadAsync(rfb, 5, cancellationToken)).AsSpan(3));
                    await SkipAsync(rfb, 6L * colours, cancellationToken);
                    break;
                case 2: // Bell
                    break;
                case 3: // ServerCutText
                    var length = BinaryPrimitives.ReadUInt32BigEndian((await ReadAsync(rfb, 7, cancellationToken)).AsSpan(3));
                    if (length > MaxTextLength)
                    {
                        await SkipAsync(rfb, length, cancellationToken);
                        throw new IOException(string.Create(CultureInfo.InvariantCulture, $"the host's clipboard holds {length} bytes; more than {MaxTextLength} are not taken"));
                    }

                    if (!await onText(Encoding.Latin1.GetString(await ReadAsync(rfb, (int)length, cancellationToken))))
                    {
                        return;
                    }

                    break;
                default:
                    throw new IOException(string.Create(CultureInfo.InvariantCulture, $"the host's VNC server sent message type {type}, which this client does not know"));
            }
        }
    }

    private static async Task<string> ReadReasonAsync(Stream rfb, CancellationToken cancellationToken)
    {
        var length = BinaryPrimitives.ReadUInt32BigEndian(await ReadAsync(rfb, 4, cancellationToken));
        return Encoding.UTF8.GetString(await ReadAsync(rfb, (int)Math.Min(length, 4096), cancellationToken));
    }

    private static async Task<byte[]> ReadAsync(Stream rfb, int count, CancellationToken cancellationToken)
    {
        var bytes = new byte[count];
        try
        {
            await rfb.ReadExactlyAsync(bytes, cancellationToken);
        }
        catch (EndOfStreamException ex)
        {
            throw new IOException("the host's screen stream ended", ex);
        }

        return bytes;
    }

    private static async Task SkipAsync(Stream rfb, long count, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(SkipChunk);
        try
        {
            while (count > 0)
            {
                var chunk = (int)Math.Min(count, SkipChunk);
                await rfb.ReadExactlyAsync(buffer.AsMemory(0, chunk), cancellationToken);
                count -= chunk;
            }
        }
        catch (EndOfStreamException ex)
        {
            throw new IOException("the host's screen stream ended", ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task WriteAsync(Stream rfb, byte[] bytes, CancellationToken cancellationToken)
    {
        await rfb.WriteAsync(bytes, cancellationToken);
        await rfb.FlushAsync(cancellationToken);
    }
}
