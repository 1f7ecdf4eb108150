using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;

namespace PrivateServer.HostModule.Rfb;

/// <summary>Why a view-only copy stopped.</summary>
internal enum RfbFilterOutcome
{
    /// <summary>The stream it reads ended; a message cut off by the end is not forwarded.</summary>
    Ended,

    /// <summary>The peer sent something the filter cannot parse or does not allow; the caller closes the connection.</summary>
    Violation,
}

/// <summary>How a view-only copy ended. Message counts cover the messages after the handshake; <paramref name="BytesForwarded"/> includes the handshake.</summary>
internal sealed record RfbFilterResult(RfbFilterOutcome Outcome, string? Violation, long MessagesForwarded, long MessagesDropped, long BytesForwarded);

/// <summary>
/// Both halves of an RFB (RFC 6143) relay for a supporter without control. Client→server: parses every client message,
/// forwards the ones that only ask to watch and drops input (keys, pointer, clipboard, screen resizing); SetEncodings is cut
/// down to the encodings the other half can parse. Server→client: parses every server message and drops the host's clipboard
/// (ServerCutText), so a supporter who may only watch never reads what the host's user copied. Neither half ever forwards
/// bytes it did not understand: anything else is a violation.
/// </summary>
internal static class RfbViewOnlyFilter
{
    internal const int MaxEncodings = 1024;
    internal const int MaxCutTextLength = 16 * 1024 * 1024;
    internal const int MaxFencePayload = 64;
    internal const int MaxScreens = 64;

    // Holds the largest message parsed whole (SetEncodings: 4 + 4 * 1024 bytes; a Hextile tile header: 1 + 4 + 4 + 1 + 255 * 6)
    // with room to batch; longer messages are forwarded or skipped in pieces.
    private const int BufferSize = 16 * 1024;

    /// <summary>Copies client→server RFB bytes until <paramref name="client"/> ends or a violation (a copy on its own, for tests of this half).</summary>
    public static Task<RfbFilterResult> CopyAsync(Stream client, Stream server, CancellationToken cancellationToken) =>
        CopyAsync(client, server, new RfbViewOnlySession(), cancellationToken);

    /// <summary>Copies client→server RFB bytes from <paramref name="client"/> to <paramref name="server"/> until <paramref name="client"/> ends or a violation.</summary>
    public static Task<RfbFilterResult> CopyAsync(Stream client, Stream server, RfbViewOnlySession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(session);
        return RunAsync(buffer => new ClientCopier(client, server, buffer, session), cancellationToken);
    }

    /// <summary>Copies server→client RFB bytes from <paramref name="server"/> to <paramref name="client"/>, without the server's clipboard, until <paramref name="server"/> ends or a violation.</summary>
    public static Task<RfbFilterResult> CopyServerAsync(Stream server, Stream client, RfbViewOnlySession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(session);
        return RunAsync(buffer => new ServerCopier(server, client, buffer, session), cancellationToken);
    }

    private static async Task<RfbFilterResult> RunAsync(Func<byte[], Copier> create, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            var copier = create(buffer);
            var violation = await copier.RunAsync(cancellationToken);
            await copier.WritePendingAsync(cancellationToken);
            return new RfbFilterResult(
                violation is null ? RfbFilterOutcome.Ended : RfbFilterOutcome.Violation,
                violation,
                copier.MessagesForwarded,
                copier.MessagesDropped,
                copier.BytesForwarded);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>One direction: a parser over a single buffer. Bytes in [_pending, Start) are parsed and allowed but not yet written.</summary>
    private abstract class Copier(Stream from, Stream to, byte[] buffer)
    {
        private readonly Stream _from = from;
        private readonly Stream _to = to;
        private int _pending;
        private int _end;

        protected byte[] Buffer { get; } = buffer;

        /// <summary>Where the next unparsed byte is.</summary>
        protected int Start { get; set; }

        public long MessagesForwarded { get; protected set; }

        public long MessagesDropped { get; protected set; }

        public long BytesForwarded { get; private set; }

        /// <summary>Returns null when the stream it reads ended, otherwise the violation.</summary>
        public abstract Task<string?> RunAsync(CancellationToken cancellationToken);

        /// <summary>Writes the allowed bytes parsed since the last write, as one write.</summary>
        public async Task WritePendingAsync(CancellationToken cancellationToken)
        {
            if (Start > _pending)
            {
                await _to.WriteAsync(Buffer.AsMemory(_pending, Start - _pending), cancellationToken);
                await _to.FlushAsync(cancellationToken);
                BytesForwarded += Start - _pending;
            }

            _pending = Start;
        }

        /// <summary>Makes sure <paramref name="count"/> unparsed bytes are in the buffer; false when the stream ended first.</summary>
        protected async Task<bool> FillAsync(int count, CancellationToken cancellationToken)
        {
            while (_end - Start < count)
            {
                // About to wait for the peer: what is allowed so far goes out now, then the partial message moves to the front.
                await WritePendingAsync(cancellationToken);
                System.Buffer.BlockCopy(Buffer, Start, Buffer, 0, _end - Start);
                _end -= Start;
                Start = _pending = 0;

                var read = await _from.ReadAsync(Buffer.AsMemory(_end), cancellationToken);
                if (read == 0)
                {
                    return false;
                }

                _end += read;
            }

            return true;
        }

        /// <summary>Skips <paramref name="count"/> bytes without holding them all; false when the stream ended first.</summary>
        protected async Task<bool> DropAsync(long count, CancellationToken cancellationToken)
        {
            await WritePendingAsync(cancellationToken);
            while (true)
            {
                var take = (int)Math.Min(count, _end - Start);
                Start += take;
                _pending = Start;
                count -= take;
                if (count == 0)
                {
                    return true;
                }

                Start = _pending = 0;
                _end = await _from.ReadAsync(Buffer, cancellationToken);
                if (_end == 0)
                {
                    return false;
                }
            }
        }

        /// <summary>Forwards <paramref name="count"/> bytes (pixel data) without holding them all; false when the stream ended first.</summary>
        protected async Task<bool> ForwardAsync(long count, CancellationToken cancellationToken)
        {
            while (true)
            {
                var take = (int)Math.Min(count, _end - Start);
                Start += take;
                count -= take;
                if (count == 0)
                {
                    return true;
                }

                await WritePendingAsync(cancellationToken);
                Start = _pending = 0;
                _end = await _from.ReadAsync(Buffer, cancellationToken);
                if (_end == 0)
                {
                    return false;
                }
            }
        }

        /// <summary>Writes the allowed bytes before <see cref="Start"/>, then <paramref name="length"/> bytes rewritten in place at <see cref="Start"/>, and skips <paramref name="consumed"/> bytes of the original.</summary>
        protected async Task ReplaceAsync(int length, int consumed, CancellationToken cancellationToken)
        {
            await WritePendingAsync(cancellationToken);
            Start += length;
            await WritePendingAsync(cancellationToken);
            Start += consumed - length;
            _pending = Start;
        }

        protected static string Text(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

        protected static string Printable(ReadOnlySpan<byte> bytes)
        {
            Span<char> chars = stackalloc char[bytes.Length];
            for (var i = 0; i < bytes.Length; i++)
            {
                chars[i] = bytes[i] is >= 0x20 and < 0x7F ? (char)bytes[i] : '?';
            }

            return new string(bytes[^1] == '\n' ? chars[..^1] : chars);
        }
    }

    /// <summary>Client→server: only messages that ask to watch.</summary>
    private sealed class ClientCopier(Stream client, Stream server, byte[] buffer, RfbViewOnlySession session) : Copier(client, server, buffer)
    {
        private readonly RfbViewOnlySession _session = session;

        public override async Task<string?> RunAsync(CancellationToken cancellationToken)
        {
            // Handshake: ProtocolVersion, security type, (VNC authentication response), ClientInit. The server answers
            // between the steps, so each step goes out before the next is awaited (FillAsync writes what is pending).
            // What the client chose is noted before it goes out: the server half parses the answers by it.
            if (!await FillAsync(12, cancellationToken))
            {
                return null;
            }

            var version = Buffer.AsSpan(Start, 12);
            if (!version.SequenceEqual("RFB 003.008\n"u8) && !version.SequenceEqual("RFB 003.007\n"u8))
            {
                return Text($"unsupported RFB version '{Printable(version)}'");
            }

            _session.MinorVersion = version[10] - '0';
            Start += 12;
            if (!await FillAsync(1, cancellationToken))
            {
                return null;
            }

            var securityType = Buffer[Start];
            if (securityType is not (1 or 2))
            {
                return Text($"unsupported RFB security type {securityType}");
            }

            _session.SecurityType = securityType;
            Start += 1;
            if (securityType == 2)
            {
                if (!await FillAsync(16, cancellationToken))
                {
                    return null;
                }

                Start += 16;
            }

            if (!await FillAsync(1, cancellationToken))
            {
                return null;
            }

            Start += 1;

            while (true)
            {
                if (!await FillAsync(1, cancellationToken))
                {
                    return null;
                }

                var type = Buffer[Start];
                var headerLength = type switch { 0 => 20, 2 => 4, 3 => 10, 4 => 8, 5 => 6, 6 => 8, 150 => 10, 248 => 9, 251 => 8, 255 => 2, _ => 0 };
                if (headerLength == 0)
                {
                    return Text($"unknown client message type {type}");
                }

                if (!await FillAsync(headerLength, cancellationToken))
                {
                    return null;
                }

                var header = Buffer.AsSpan(Start, headerLength);
                long dropLength = 0;
                var forwardLength = 0;
                switch (type)
                {
                    case 0 when header[4] is not (8 or 16 or 32):
                        return Text($"SetPixelFormat with {header[4]} bits per pixel is not valid RFB");
                    case 0 when _session.UpdatesAsked && header[4] / 8 != _session.BytesPerPixel:
                        // The server may still send updates in the old format; the server half could not tell which is which.
                        return Text($"SetPixelFormat to {header[4]} bits per pixel after the first update request is not supported while only watching");
                    case 0:
                        _session.ClientBytesPerPixel = header[4] / 8;
                        forwardLength = headerLength;
                        break;
                    case 2 when BinaryPrimitives.ReadUInt16BigEndian(header[2..]) is var count and > MaxEncodings:
                        return Text($"SetEncodings with {count} encodings exceeds the limit of {MaxEncodings}");
                    case 2:
                        if (!await SetEncodingsAsync(BinaryPrimitives.ReadUInt16BigEndian(header[2..]), cancellationToken))
                        {
                            return null;
                        }

                        MessagesForwarded++;
                        continue;
                    case 3 or 150:
                        _session.UpdatesAsked = true;
                        forwardLength = headerLength;
                        break;
                    case 6 when Math.Abs((long)BinaryPrimitives.ReadInt32BigEndian(header[4..])) is var textLength and > MaxCutTextLength:
                        return Text($"ClientCutText of {textLength} bytes exceeds the limit of {MaxCutTextLength}");
                    case 6:
                        dropLength = 8 + Math.Abs((long)BinaryPrimitives.ReadInt32BigEndian(header[4..]));
                        break;
                    case 248 when header[8] > MaxFencePayload:
                        return Text($"ClientFence with a {header[8]}-byte payload exceeds the limit of {MaxFencePayload}");
                    case 248:
                        forwardLength = 9 + header[8];
                        break;
                    case 251 when header[6] > MaxScreens:
                        return Text($"SetDesktopSize with {header[6]} screens exceeds the limit of {MaxScreens}");
                    case 251:
                        dropLength = 8 + (16 * header[6]);
                        break;
                    case 255 when header[1] != 0:
                        return Text($"unknown QEMU client message subtype {header[1]}");
                    case 255:
                        dropLength = 12;
                        break;
                    default: // 4 KeyEvent, 5 PointerEvent: fixed length.
                        dropLength = headerLength;
                        break;
                }

                if (dropLength > 0)
                {
                    if (!await DropAsync(dropLength, cancellationToken))
                    {
                        return null;
                    }

                    MessagesDropped++;
                }
                else
                {
                    if (!await FillAsync(forwardLength, cancellationToken))
                    {
                        return null;
                    }

                    Start += forwardLength;
                    MessagesForwarded++;
                }
            }
        }

        /// <summary>Forwards SetEncodings with only the encodings the server half parses (Raw is implied by RFB anyway); unchanged when all are.</summary>
        private async Task<bool> SetEncodingsAsync(int count, CancellationToken cancellationToken)
        {
            var length = 4 + (4 * count);
            if (!await FillAsync(length, cancellationToken))
            {
                return false;
            }

            var message = Buffer.AsSpan(Start, length);
            var kept = 0;
            for (var i = 0; i < count; i++)
            {
                var encoding = message.Slice(4 + (4 * i), 4);
                if (RfbViewOnlySession.CanParse(BinaryPrimitives.ReadInt32BigEndian(encoding)))
                {
                    encoding.CopyTo(message[(4 + (4 * kept))..]);
                    kept++;
                }
            }

            if (kept == count)
            {
                Start += length;
                return true;
            }

            BinaryPrimitives.WriteUInt16BigEndian(message[2..], (ushort)kept);
            await ReplaceAsync(4 + (4 * kept), length, cancellationToken);
            return true;
        }
    }

    /// <summary>Server→client: everything but the host's clipboard, and only what the server half can parse.</summary>
    private sealed class ServerCopier(Stream server, Stream client, byte[] buffer, RfbViewOnlySession session) : Copier(server, client, buffer)
    {
        private const int LastRect = -224;

        private readonly RfbViewOnlySession _session = session;

        public override async Task<string?> RunAsync(CancellationToken cancellationToken)
        {
            // Handshake (RFC 6143, 7.1-7.3): ProtocolVersion, security types, (VNC authentication challenge), SecurityResult,
            // ServerInit. The client answers between the steps; the client half has noted its answers by the time the next step comes.
            if (!await FillAsync(12, cancellationToken))
            {
                return null;
            }

            var version = Buffer.AsSpan(Start, 12);
            if (!version.StartsWith("RFB 003.00"u8) || version[10] is < (byte)'7' or > (byte)'9' || version[11] != '\n')
            {
                return Text($"unsupported RFB server version '{Printable(version)}'");
            }

            Start += 12;
            if (!await FillAsync(1, cancellationToken))
            {
                return null;
            }

            var types = Buffer[Start];
            if (types == 0)
            {
                // The server refuses and says why, then closes.
                return await ForwardReasonAsync(1, cancellationToken) ? "the RFB server refused the connection" : null;
            }

            if (!await FillAsync(1 + types, cancellationToken))
            {
                return null;
            }

            Start += 1 + types;
            if (!await FillAsync(1, cancellationToken))
            {
                return null;
            }

            var minor = _session.MinorVersion;
            var securityType = _session.SecurityType;
            if (minor == 0 || securityType == 0)
            {
                return "the RFB server went on before the client had chosen a protocol version and security type";
            }

            if (securityType == 2)
            {
                if (!await FillAsync(16, cancellationToken))
                {
                    return null;
                }

                Start += 16;
            }

            if (minor == 8 || securityType != 1)
            {
                if (!await FillAsync(4, cancellationToken))
                {
                    return null;
                }

                if (BinaryPrimitives.ReadUInt32BigEndian(Buffer.AsSpan(Start)) != 0)
                {
                    if (minor < 8)
                    {
                        Start += 4;
                        return "the RFB server refused the authentication";
                    }

                    return await ForwardReasonAsync(4, cancellationToken) ? "the RFB server refused the authentication" : null;
                }

                Start += 4;
            }

            if (!await FillAsync(24, cancellationToken))
            {
                return null;
            }

            var bitsPerPixel = Buffer[Start + 4];
            if (bitsPerPixel is not (8 or 16 or 32))
            {
                return Text($"ServerInit with {bitsPerPixel} bits per pixel is not valid RFB");
            }

            _session.ServerBytesPerPixel = bitsPerPixel / 8;
            var nameLength = BinaryPrimitives.ReadUInt32BigEndian(Buffer.AsSpan(Start + 20));
            Start += 24;
            if (!await ForwardAsync(nameLength, cancellationToken))
            {
                return null;
            }

            while (true)
            {
                if (!await FillAsync(1, cancellationToken))
                {
                    return null;
                }

                var type = Buffer[Start];
                string? violation;
                switch (type)
                {
                    case 0:
                        violation = await FramebufferUpdateAsync(cancellationToken);
                        break;
                    case 1: // SetColourMapEntries: padding, first colour, count, 6 bytes each.
                        violation = !await FillAsync(6, cancellationToken) ? null
                            : await ForwardAsync(6 + (6L * BinaryPrimitives.ReadUInt16BigEndian(Buffer.AsSpan(Start + 4))), cancellationToken) ? string.Empty : null;
                        break;
                    case 2 or 150: // Bell, EndOfContinuousUpdates.
                        Start += 1;
                        violation = string.Empty;
                        break;
                    case 3: // ServerCutText: the host's clipboard is not for a supporter who only watches.
                        if (!await FillAsync(8, cancellationToken) || !await DropAsync(8L + BinaryPrimitives.ReadUInt32BigEndian(Buffer.AsSpan(Start + 4)), cancellationToken))
                        {
                            return null;
                        }

                        MessagesDropped++;
                        continue;
                    case 248: // ServerFence: padding, flags, payload length, payload.
                        if (!await FillAsync(9, cancellationToken))
                        {
                            return null;
                        }

                        var payload = Buffer[Start + 8];
                        if (payload > MaxFencePayload)
                        {
                            return Text($"ServerFence with a {payload}-byte payload exceeds the limit of {MaxFencePayload}");
                        }

                        violation = await ForwardAsync(9 + payload, cancellationToken) ? string.Empty : null;
                        break;
                    default:
                        return Text($"unknown server message type {type}");
                }

                // null: the server ended; empty: forwarded; otherwise the violation.
                if (violation is null)
                {
                    return null;
                }

                if (violation.Length > 0)
                {
                    return violation;
                }

                MessagesForwarded++;
            }
        }

        /// <summary>One FramebufferUpdate, rectangle by rectangle: null when the server ended, empty when forwarded, else the violation.</summary>
        private async Task<string?> FramebufferUpdateAsync(CancellationToken cancellationToken)
        {
            if (!await FillAsync(4, cancellationToken))
            {
                return null;
            }

            int rectangles = BinaryPrimitives.ReadUInt16BigEndian(Buffer.AsSpan(Start + 2));
            Start += 4;
            var pixel = _session.BytesPerPixel;
            for (var i = 0; i < rectangles; i++)
            {
                if (!await FillAsync(12, cancellationToken))
                {
                    return null;
                }

                var header = Buffer.AsSpan(Start, 12);
                long width = BinaryPrimitives.ReadUInt16BigEndian(header[4..]);
                long height = BinaryPrimitives.ReadUInt16BigEndian(header[6..]);
                var encoding = BinaryPrimitives.ReadInt32BigEndian(header[8..]);
                Start += 12;
                bool complete;
                switch (encoding)
                {
                    case 0: // Raw
                        complete = await ForwardAsync(width * height * pixel, cancellationToken);
                        break;
                    case 1: // CopyRect: source x, y.
                        complete = await ForwardAsync(4, cancellationToken);
                        break;
                    case 2: // RRE: subrectangle count, background pixel, then pixel + x, y, w, h each.
                        complete = await FillAsync(4, cancellationToken)
                            && await ForwardAsync(4 + pixel + (BinaryPrimitives.ReadUInt32BigEndian(Buffer.AsSpan(Start)) * (pixel + 8L)), cancellationToken);
                        break;
                    case 5:
                        complete = await HextileAsync(width, height, pixel, cancellationToken);
                        break;
                    case 6 or 16: // zlib, ZRLE: length, then the compressed data.
                        complete = await FillAsync(4, cancellationToken)
                            && await ForwardAsync(4L + BinaryPrimitives.ReadUInt32BigEndian(Buffer.AsSpan(Start)), cancellationToken);
                        break;
                    case -223 or -224 or -232 or -257 or -258: // DesktopSize, LastRect, PointerPos, QEMU pointer motion and key events: no data.
                        complete = true;
                        break;
                    case -239: // Cursor: pixels, then a bit mask with rows padded to bytes.
                        complete = await ForwardAsync((width * height * pixel) + ((width + 7) / 8 * height), cancellationToken);
                        break;
                    case -240: // XCursor: two colours and two bit masks, only for a non-empty cursor.
                        complete = await ForwardAsync(width * height == 0 ? 0 : 6 + (2 * ((width + 7) / 8) * height), cancellationToken);
                        break;
                    case -307: // DesktopName: length, name.
                        complete = await FillAsync(4, cancellationToken)
                            && await ForwardAsync(4L + BinaryPrimitives.ReadUInt32BigEndian(Buffer.AsSpan(Start)), cancellationToken);
                        break;
                    case -308: // ExtendedDesktopSize: screen count, padding, 16 bytes per screen.
                        complete = await FillAsync(4, cancellationToken) && await ForwardAsync(4 + (16L * Buffer[Start]), cancellationToken);
                        break;
                    default:
                        return Text($"the RFB server sent a rectangle in encoding {encoding}, which was not asked for while only watching");
                }

                if (!complete)
                {
                    return null;
                }

                if (encoding == LastRect)
                {
                    break;
                }
            }

            return string.Empty;
        }

        /// <summary>Hextile (RFC 6143, 7.7.4): 16x16 tiles, each a subencoding byte and what it announces.</summary>
        private async Task<bool> HextileAsync(long width, long height, int pixel, CancellationToken cancellationToken)
        {
            for (long top = 0; top < height; top += 16)
            {
                var tileHeight = Math.Min(16, height - top);
                for (long left = 0; left < width; left += 16)
                {
                    var tileWidth = Math.Min(16, width - left);
                    if (!await FillAsync(1, cancellationToken))
                    {
                        return false;
                    }

                    var subencoding = Buffer[Start];
                    if ((subencoding & 1) != 0)
                    {
                        // Raw tile.
                        if (!await ForwardAsync(1 + (tileWidth * tileHeight * pixel), cancellationToken))
                        {
                            return false;
                        }

                        continue;
                    }

                    var length = 1 + ((subencoding & 2) != 0 ? pixel : 0) + ((subencoding & 4) != 0 ? pixel : 0);
                    if ((subencoding & 8) != 0)
                    {
                        if (!await FillAsync(length + 1, cancellationToken))
                        {
                            return false;
                        }

                        length += 1 + (Buffer[Start + length] * ((subencoding & 16) != 0 ? pixel + 2 : 2));
                    }

                    if (!await FillAsync(length, cancellationToken))
                    {
                        return false;
                    }

                    Start += length;
                }
            }

            return true;
        }

        /// <summary>Forwards a failure reason (length, text) that starts <paramref name="offset"/> bytes on; false when the server ended first.</summary>
        private async Task<bool> ForwardReasonAsync(int offset, CancellationToken cancellationToken)
        {
            if (!await FillAsync(offset + 4, cancellationToken))
            {
                return false;
            }

            var length = BinaryPrimitives.ReadUInt32BigEndian(Buffer.AsSpan(Start + offset));
            Start += offset + 4;
            return await ForwardAsync(length, cancellationToken);
        }
    }
}
