using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PrivateServer.Protocol.Trust;

/// <summary>
/// Certificates whose chain to one trust anchor was checked in full, remembered by the SHA-256 of
/// their DER bytes: the same certificate presented again (every relay connection of a host, every
/// connection a module makes to its server) needs no second signature check. Checking a chain costs
/// ~1.5 ms of CPU with the appliance's ECDSA P-384 CA and was done on both ends of every TLS
/// handshake. A remembered certificate counts only inside its chain's validity period and for
/// <see cref="Lifetime"/>; whatever else the caller checks (revocation, the EKU) it checks each time.
/// </summary>
public sealed class VerifiedCertificates(TimeProvider time, int capacity)
{
    /// <summary>How long a full check is trusted before the chain is checked again.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    // Value types throughout: one entry per online host is a single small node, no strings.
    private readonly ConcurrentDictionary<Sha256, Validity> _verified = new();

    private readonly record struct Sha256(ulong A, ulong B, ulong C, ulong D)
    {
        public static Sha256 Of(ReadOnlySpan<byte> hash) => hash.Length != SHA256.HashSizeInBytes
            ? throw new ArgumentException("a SHA-256 hash is 32 bytes", nameof(hash))
            : new(
            BinaryPrimitives.ReadUInt64LittleEndian(hash), BinaryPrimitives.ReadUInt64LittleEndian(hash[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(hash[16..]), BinaryPrimitives.ReadUInt64LittleEndian(hash[24..]));
    }

    private readonly record struct Validity(DateTimeOffset NotBefore, DateTimeOffset NotAfter, DateTimeOffset Until);

    /// <summary>
    /// The policy to hand <c>SslStream</c> when the chain is judged in the validation callback: it
    /// always builds a chain before calling it, and with no root to find that build costs little.
    /// </summary>
    public static X509ChainPolicy CallbackOnlyPolicy() => new()
    {
        TrustMode = X509ChainTrustMode.CustomRootTrust,
        RevocationMode = X509RevocationMode.NoCheck,
        DisableCertificateDownloads = true,
    };

    /// <summary>Whether <paramref name="certificate"/> was verified and is still inside what was verified.</summary>
    public bool Contains(X509Certificate2 certificate) => Contains(Key(certificate));

    /// <summary>Like <see cref="Contains(X509Certificate2)"/>, for a caller that hashed the certificate (SHA-256 of its DER) already.</summary>
    public bool Contains(ReadOnlySpan<byte> sha256) => Contains(Sha256.Of(sha256));

    /// <summary>Remembers a certificate whose <paramref name="chain"/> was just built and accepted.</summary>
    public void Add(X509Certificate2 certificate, X509Chain chain) => Add(Key(certificate), chain);

    /// <summary>Like <see cref="Add(X509Certificate2, X509Chain)"/>, by the certificate's SHA-256.</summary>
    public void Add(ReadOnlySpan<byte> sha256, X509Chain chain) => Add(Sha256.Of(sha256), chain);

    /// <summary>Forgets a certificate by its SHA-256 (64 hex digits, any case); anything else names no certificate.</summary>
    public void Remove(string sha256Hex)
    {
        ArgumentNullException.ThrowIfNull(sha256Hex);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        if (Convert.FromHexString(sha256Hex, hash, out _, out var written) == System.Buffers.OperationStatus.Done && written == hash.Length)
        {
            _verified.TryRemove(Sha256.Of(hash), out _);
        }
    }

    private bool Contains(Sha256 key)
    {
        if (!_verified.TryGetValue(key, out var validity))
        {
            return false;
        }

        var now = time.GetUtcNow();
        if (now >= validity.NotBefore && now < validity.NotAfter && now < validity.Until)
        {
            return true;
        }

        _verified.TryRemove(key, out _);
        return false;
    }

    private void Add(Sha256 key, X509Chain chain)
    {
        ArgumentNullException.ThrowIfNull(chain);
        var notBefore = DateTimeOffset.MinValue;
        var notAfter = DateTimeOffset.MaxValue;
        foreach (var element in chain.ChainElements)
        {
            var from = new DateTimeOffset(element.Certificate.NotBefore);
            var to = new DateTimeOffset(element.Certificate.NotAfter);
            notBefore = from > notBefore ? from : notBefore;
            notAfter = to < notAfter ? to : notAfter;
        }

        if (_verified.Count >= capacity)
        {
            // Bounded without bookkeeping: far more distinct certificates than expected means start over.
            _verified.Clear();
        }

        _verified[key] = new Validity(notBefore, notAfter, time.GetUtcNow() + Lifetime);
    }

    private static Sha256 Key(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(certificate.RawDataMemory.Span, hash);
        return Sha256.Of(hash);
    }
}
