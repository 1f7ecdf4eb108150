using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PrivateServer.Certs.Issuance;

/// <summary>What the appliance CA accepts in a host's certificate request, and how long a host certificate lives.</summary>
public static class ModuleCertificatePolicy
{
    /// <summary>
    /// Host certificates live five years (never beyond the CA): an installed host must not break
    /// because nobody renewed it. Revocation, not expiry, is how a host loses access.
    /// </summary>
    public static readonly TimeSpan HostValidity = TimeSpan.FromDays(5 * 365);

    public const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    /// <summary>Parses and checks a PKCS#10 request (PEM): signature valid, key ECDSA P-256/P-384 or RSA ≥ 2048.</summary>
    public static bool TryReadRequest(string? pem, out CertificateRequest? request, out string error)
    {
        request = null;
        if (string.IsNullOrWhiteSpace(pem) || pem.Length > 16 * 1024)
        {
            error = "the certificate request is missing or too large";
            return false;
        }

        try
        {
            request = CertificateRequest.LoadSigningRequestPem(pem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.Default);
            error = KeyProblem(request.PublicKey) ?? string.Empty;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException or NotSupportedException)
        {
            // NotSupportedException (and PlatformNotSupportedException): a key algorithm or curve nobody knows (found by fuzzing).
            request = null;
            error = "the certificate request is not a valid signed PKCS#10 request: " + ex.Message;
            return false;
        }

        return error.Length == 0;
    }

    private static string? KeyProblem(PublicKey key)
    {
        using var ec = key.GetECDsaPublicKey();
        if (ec is not null)
        {
            var size = ec.KeySize;
            return size is 256 or 384 ? null : $"ECDSA keys must be P-256 or P-384, not {size} bits";
        }

        using var rsa = key.GetRSAPublicKey();
        if (rsa is not null)
        {
            return rsa.KeySize >= 2048 ? null : $"RSA keys must have at least 2048 bits, not {rsa.KeySize}";
        }

        return "the key must be ECDSA (P-256, P-384) or RSA (2048 bits or more)";
    }
}
