using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PrivateServer.Server.Hosts;

namespace PrivateServer.Server.Tls;

/// <summary>
/// The certificate revocation list of the appliance CA (RFC 5280, DER), served at <c>/ca/crl</c>: every revoked
/// host certificate with the time it was revoked. Signed again when the list changed or a day passed (valid for a
/// week). The TLS handshake refuses the same certificates from the same database records.
/// </summary>
public sealed class RevocationList(IHostStore hosts, ServerCertificateStore certificates, TimeProvider time) : IDisposable
{
    public const string Path = "/ca/crl";
    private static readonly TimeSpan Validity = TimeSpan.FromDays(7);
    private static readonly TimeSpan Refresh = TimeSpan.FromDays(1);

    private readonly SemaphoreSlim _signing = new(1, 1);
    private Signed? _current;
    private BigInteger _lastNumber;

    /// <summary>The CRL in DER, signed now if the list changed since the last one.</summary>
    public async Task<byte[]> CurrentAsync(CancellationToken cancellationToken)
    {
        var revoked = (await hosts.ListAsync(cancellationToken)).Where(h => h.RevokedAt is not null)
            .OrderBy(h => h.CertificateSerial, StringComparer.Ordinal).Select(h => (h.CertificateSerial, RevokedAt: h.RevokedAt!.Value)).ToList();
        var key = string.Join(',', revoked.Select(r => r.CertificateSerial));
        var now = time.GetUtcNow();
        await _signing.WaitAsync(cancellationToken);
        try
        {
            if (_current is { } current && current.Key == key && now - current.At < Refresh)
            {
                return current.Der;
            }

            var builder = new CertificateRevocationListBuilder();
            foreach (var (serial, at) in revoked)
            {
                builder.AddEntry(Convert.FromHexString(serial), at, X509RevocationReason.CessationOfOperation);
            }

            // The CRL number only grows: seconds since 1970, or one more than the last.
            _lastNumber = BigInteger.Max(_lastNumber + 1, now.ToUnixTimeSeconds());
            var der = builder.Build(certificates.Authority.Certificate, _lastNumber, now + Validity, HashAlgorithmName.SHA384, thisUpdate: now);
            _current = new Signed(key, now, der);
            return der;
        }
        finally
        {
            _signing.Release();
        }
    }

    public void Dispose() => _signing.Dispose();

    private sealed record Signed(string Key, DateTimeOffset At, byte[] Der);
}

public static class RevocationListEndpoints
{
    /// <summary><c>GET /ca/crl</c>: the CA's revocation list (DER), for anyone — it names only serial numbers.</summary>
    public static IEndpointRouteBuilder MapRevocationList(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(RevocationList.Path, async (RevocationList list, CancellationToken cancellationToken) =>
            TypedResults.File(await list.CurrentAsync(cancellationToken), "application/pkix-crl", "appliance-ca.crl")).AllowAnonymous();
        return endpoints;
    }
}
