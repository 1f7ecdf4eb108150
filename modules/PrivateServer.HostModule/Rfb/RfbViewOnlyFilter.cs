using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;

namespace PrivateServer.HostModule.Rfb;

/// <summary>Why <see cref="RfbViewOnlyFilter.CopyAsync"/> stopped.</summary>
internal enum RfbFilterOutcome
{
    /// <summary>The client stream ended; a message cut off by the end is not forwarded.</summary>
    ClientEnded,

    /// <summary>The client sent something the filter cannot parse or does not allow; the caller closes the connection.</summary>
    Violation,
}

/// <summary>How a view-only copy ended. Message counts cover the client messages after the handshake; <paramref name="BytesForwarded"/> includes the handshake.</summary>
internal sealed record RfbFilterResult(RfbFilterOutcome Outcome, string? Violation, long MessagesForwarded, long MessagesDropped, long BytesForwarded);

/// <summary>
/// The client→server half of an RFB (RFC 6143) relay for a supporter without control: parses every client message,
/// forwards the ones that only ask to watch and drops input (keys, pointer, clipboard, screen resizing).
/// Anything it cannot parse is a violation; it never forwards bytes it did not understand.
/// </summary>
internal static class RfbViewOnlyFilter
{
    internal const int MaxEncodings = 1024;
    internal const int MaxCutTextLength = 16 * 1024 * 1024;
    internal const int MaxFencePayload = 64;
    internal const int MaxScreens = 64;

    // Holds the largest forwarded message (SetEncodings: 4 + 4 * 1024 bytes) with room to batch; longer dropped messages are skipped in pieces.
    private const int BufferSize = 16 * 1024;

    /// <summary>Copies client→server RFB bytes from <paramref name="client"/> to <paramref name="server"/> until <paramref name="client"/> ends or a violation.</summary>
    public static async Task<RfbFilterResult> CopyAsync(Stream client, Stream server, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(server);

        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            var copier = new Copier(client, server, buffer);
            var violation = await copier.RunAsync(cancellationToken);
            await copier.WritePendingAsync(cancellationToken);
            return new RfbFilterResult(
                violation is null ? RfbFilterOutcome.ClientEnded : RfbFilterOutcome.Violation,
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

    /// <summary>One copy: the parser over a single buffer. Bytes in [_pending, _start) are parsed and allowed but not yet written.</summary>
    private sealed class Copier(Stream client, Stream server, byte[] buffer)
    {
        private readonly Stream _client = client;
        private readonly Stream _server = server;
        private readonly byte[] _buffer = buffer;
        private int _pending;
        private int _start;
        private int _end;

        public long MessagesForwarded { get; private set; }

        public long MessagesDropped { get; private set; }

        public long BytesForwarded { get; private set; }

        /// <summary>Returns null when the client ended, otherwise the violation.</summary>
        public async Task<string?> RunAsync(CancellationToken cancellationToken)
        {
            // Handshake: ProtocolVersion, security type, (VNC authentication response), ClientInit. The server answers
            // between the steps, so each step goes out before the next is awaited (FillAsync writes what is pending).
            if (!await FillAsync(12, cancellationToken))
            {
                return null;
            }

            var version = _buffer.AsSpan(_start, 12);
            if (!version.SequenceEqual("RFB 003.008\n"u8) && !version.SequenceEqual("RFB 003.007\n"u8))
            {
                return Text($"unsupported RFB version '{Printable(version)}'");
            }

            _start += 12;
            if (!await FillAsync(1, cancellationToken))
            {
                return null;
            }

            var securityType = _buffer[_start];
            if (securityType is not (1 or 2))
            {
                return Text($"unsupported RFB security type {securityType}");
            }

            _start += 1;
            if (securityType == 2)
            {
                if (!await FillAsync(16, cancellationToken))
                {
                    return null;
                }

                _start += 16;
            }

            if (!await FillAsync(1, cancellationToken))
            {
                return null;
            }

            _start += 1;

            while (true)
            {
                if (!await FillAsync(1, cancellationToken))
                {
                    return null;
                }

                var type = _buffer[_start];
                var headerLength = type switch { 0 => 20, 2 => 4, 3 => 10, 4 => 8, 5 => 6, 6 => 8, 150 => 10, 248 => 9, 251 => 8, 255 => 2, _ => 0 };
                if (headerLength == 0)
                {
                    return Text($"unknown client message type {type}");
                }

                if (!await FillAsync(headerLength, cancellationToken))
                {
                    return null;
                }

                var header = _buffer.AsSpan(_start, headerLength);
                long dropLength = 0;
                var forwardLength = 0;
                switch (type)
                {
                    case 2 when BinaryPrimitives.ReadUInt16BigEndian(header[2..]) is var count and > MaxEncodings:
                        return Text($"SetEncodings with {count} encodings exceeds the limit of {MaxEncodings}");
                    case 2:
                        forwardLength = 4 + (4 * BinaryPrimitives.ReadUInt16BigEndian(header[2..]));
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
                    case 4 or 5:
                        dropLength = headerLength;
                        break;
                    default: // 0 SetPixelFormat, 3 FramebufferUpdateRequest, 150 EnableContinuousUpdates: fixed length.
                        forwardLength = headerLength;
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

                    _start += forwardLength;
                    MessagesForwarded++;
                }
            }
        }

        /// <summary>Writes the allowed bytes parsed since the last write, as one write.</summary>
        public async Task WritePendingAsync(CancellationToken cancellationToken)
        {
            if (_start > _pending)
            {
                await _server.WriteAsync(_buffer.AsMemory(_pending, _start - _pending), cancellationToken);
                await _server.FlushAsync(cancellationToken);
                BytesForwarded += _start - _pending;
            }

            _pending = _start;
        }

        /// <summary>Makes sure <paramref name="count"/> unparsed bytes are in the buffer; false when the client ended first.</summary>
        private async Task<bool> FillAsync(int count, CancellationToken cancellationToken)
        {
            while (_end - _start < count)
            {
                // About to wait for the client: what is allowed so far goes out now, then the partial message moves to the front.
                await WritePendingAsync(cancellationToken);
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = _pending = 0;

                var read = await _client.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
                if (read == 0)
                {
                    return false;
                }

                _end += read;
            }

            return true;
        }

        /// <summary>Skips <paramref name="count"/> bytes without holding them all; false when the client ended first.</summary>
        private async Task<bool> DropAsync(long count, CancellationToken cancellationToken)
        {
            await WritePendingAsync(cancellationToken);
            while (true)
            {
                var take = (int)Math.Min(count, _end - _start);
                _start += take;
                _pending = _start;
                count -= take;
                if (count == 0)
                {
                    return true;
                }

                _start = _pending = 0;
                _end = await _client.ReadAsync(_buffer, cancellationToken);
                if (_end == 0)
                {
                    return false;
                }
            }
        }

        private static string Text(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

        private static string Printable(ReadOnlySpan<byte> bytes)
        {
            Span<char> chars = stackalloc char[bytes.Length];
            for (var i = 0; i < bytes.Length; i++)
            {
                chars[i] = bytes[i] is >= 0x20 and < 0x7F ? (char)bytes[i] : '?';
            }

            return new string(bytes[^1] == '\n' ? chars[..^1] : chars);
        }
    }
}
