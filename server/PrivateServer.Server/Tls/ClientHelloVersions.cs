using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace PrivateServer.Server.Tls;

/// <summary>
/// Which TLS versions a client offers, read from its ClientHello before the handshake: whether its
/// <c>supported_versions</c> extension names TLS 1.3.
/// </summary>
/// <remarks>
/// Clients that speak TLS 1.3 are served TLS 1.3 only, without a named suite list (all TLS 1.3
/// suites are AEAD): .NET then shares one OpenSSL context per certificate between connections and
/// can resume sessions, instead of building a context for every handshake. Everyone else keeps
/// TLS 1.2 with the named AEAD suites. A ClientHello that cannot be read counts as "no TLS 1.3".
/// </remarks>
internal sealed class ClientHelloVersions
{
    /// <summary>A TLS record: type, version, length — then at most 2^14 bytes (RFC 8446, 5.1).</summary>
    private const int RecordHeader = 5;
    private const int MaximumRecord = 16384;
    private const byte HandshakeRecord = 22;
    private const byte ClientHelloMessage = 1;
    private const ushort SupportedVersionsExtension = 43;
    private const ushort Tls13 = 0x0304;
    private static readonly TimeSpan PeekTimeout = TimeSpan.FromSeconds(10);

    private ClientHelloVersions(bool offersTls13) => OffersTls13 = offersTls13;

    public bool OffersTls13 { get; }

    /// <summary>
    /// A connection middleware for in front of the TLS one: waits for the first TLS record, notes what
    /// it offers as a connection feature, and leaves every byte for the handshake.
    /// </summary>
    public static ConnectionDelegate Peek(ConnectionDelegate next) => async connection =>
    {
        var input = connection.Transport.Input;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        deadline.CancelAfter(PeekTimeout);
        ReadResult read;
        while (true)
        {
            try
            {
                read = await input.ReadAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                // Silent for the whole handshake timeout, or gone: nothing to serve.
                return;
            }

            var buffer = read.Buffer;
            var needed = RecordLength(buffer);
            if (needed is not { } length || buffer.Length >= length || read.IsCompleted || read.IsCanceled)
            {
                connection.Features.Set(new ClientHelloVersions(OffersTls13In(buffer)));
                // Nothing consumed, nothing examined: the handshake reads the same bytes at once.
                input.AdvanceTo(buffer.Start);
                break;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }

        await next(connection);
    };

    /// <summary>Whether the first TLS record in <paramref name="data"/> is a ClientHello that offers TLS 1.3.</summary>
    public static bool OffersTls13In(ReadOnlySequence<byte> data)
    {
        if (RecordLength(data) is not { } length || data.Length < length)
        {
            return false;
        }

        if (data.FirstSpan.Length >= length)
        {
            return HelloOffersTls13(data.FirstSpan[RecordHeader..(int)length]);
        }

        var record = new byte[length];
        data.Slice(0, length).CopyTo(record);
        return HelloOffersTls13(record.AsSpan(RecordHeader));
    }

    /// <summary>Header plus body of the first record; null when it is not a handshake record of a sane size.</summary>
    private static long? RecordLength(ReadOnlySequence<byte> data)
    {
        if (data.Length < RecordHeader)
        {
            // Too short to tell: wait for more (a first byte that is no handshake already says enough).
            return data.Length > 0 && data.FirstSpan[0] != HandshakeRecord ? null : RecordHeader;
        }

        Span<byte> header = stackalloc byte[RecordHeader];
        data.Slice(0, RecordHeader).CopyTo(header);
        var body = BinaryPrimitives.ReadUInt16BigEndian(header[3..]);
        return header[0] == HandshakeRecord && body is > 0 and <= MaximumRecord ? RecordHeader + body : null;
    }

    /// <summary>Walks one handshake record's ClientHello to its supported_versions extension (RFC 8446, 4.1.2 and 4.2.1).</summary>
    private static bool HelloOffersTls13(ReadOnlySpan<byte> handshake)
    {
        var reader = new HelloReader(handshake);
        if (!reader.Byte(out var type) || type != ClientHelloMessage || !reader.Length(3, out var helloLength))
        {
            return false;
        }

        // A ClientHello split over several records is legal but rare: read what this record holds.
        var hello = new HelloReader(reader.Rest[..Math.Min(helloLength, reader.Rest.Length)]);
        if (!hello.Skip(2 + 32) || !hello.Vector(1, out _) || !hello.Vector(2, out _) || !hello.Vector(1, out _) || !hello.Vector(2, out var extensions))
        {
            return false;
        }

        var walk = new HelloReader(extensions);
        while (walk.UInt16(out var extension) && walk.Vector(2, out var body))
        {
            if (extension != SupportedVersionsExtension)
            {
                continue;
            }

            var versions = new HelloReader(body);
            if (!versions.Vector(1, out var list))
            {
                return false;
            }

            for (var i = 0; i + 1 < list.Length; i += 2)
            {
                if (BinaryPrimitives.ReadUInt16BigEndian(list[i..]) == Tls13)
                {
                    return true;
                }
            }

            return false;
        }

        return false;
    }

    /// <summary>Bounds-checked reading of TLS's big-endian fields and length-prefixed vectors.</summary>
    private ref struct HelloReader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _rest = data;

        public readonly ReadOnlySpan<byte> Rest => _rest;

        public bool Byte(out byte value)
        {
            value = 0;
            if (_rest.IsEmpty)
            {
                return false;
            }

            value = _rest[0];
            _rest = _rest[1..];
            return true;
        }

        public bool UInt16(out ushort value)
        {
            value = 0;
            if (_rest.Length < 2)
            {
                return false;
            }

            value = BinaryPrimitives.ReadUInt16BigEndian(_rest);
            _rest = _rest[2..];
            return true;
        }

        public bool Length(int bytes, out int value)
        {
            value = 0;
            if (_rest.Length < bytes)
            {
                return false;
            }

            for (var i = 0; i < bytes; i++)
            {
                value = (value << 8) | _rest[i];
            }

            _rest = _rest[bytes..];
            return true;
        }

        public bool Skip(int bytes)
        {
            if (_rest.Length < bytes)
            {
                return false;
            }

            _rest = _rest[bytes..];
            return true;
        }

        public bool Vector(int lengthBytes, out ReadOnlySpan<byte> body)
        {
            body = default;
            if (!Length(lengthBytes, out var length) || _rest.Length < length)
            {
                return false;
            }

            body = _rest[..length];
            _rest = _rest[length..];
            return true;
        }
    }
}
