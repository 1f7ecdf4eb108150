using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PrivateServer.Protocol.Trust;

/// <summary>
/// A module's trust anchor: the SHA-256 fingerprint of the appliance CA certificate (DER). The
/// module accepts a server only if the server's chain ends in the CA with exactly this
/// fingerprint — no trust on first use, no system store.
/// </summary>
public sealed class CaPin
{
    private readonly byte[] _sha256;

    private CaPin(byte[] sha256)
    {
        _sha256 = sha256;
    }

    /// <summary>The fingerprint as 64 lower-case hex digits.</summary>
    public string Hex => Convert.ToHexStringLower(_sha256);

    /// <summary>Accepts 64 hex digits, upper or lower case, optionally separated by ':' or spaces.</summary>
    public static bool TryParse(string? text, out CaPin? pin, out string error)
    {
        pin = null;
        var digits = new string((text ?? string.Empty).Where(c => c is not (':' or ' ')).ToArray());
        if (digits.Length != 64 || !digits.All(char.IsAsciiHexDigit))
        {
            error = "a CA fingerprint is 64 hex digits (SHA-256 of the CA certificate; 'privateserver ca fingerprint' prints it)";
            return false;
        }

        pin = new CaPin(Convert.FromHexString(digits));
        error = string.Empty;
        return true;
    }

    public bool Matches(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(certificate.RawData), _sha256);
    }

    /// <summary>
    /// Checks a server certificate: among the certificates the server presented there must be the
    /// pinned CA, and the leaf must chain to it (signatures, validity, name constraints) with no
    /// other root trusted.
    /// </summary>
    public bool ValidatesServer(X509Certificate2 leaf, IEnumerable<X509Certificate2> presented, out string error) =>
        ValidatesServer(leaf, presented, null, out error);

    /// <summary>
    /// Like <see cref="ValidatesServer(X509Certificate2, IEnumerable{X509Certificate2}, out string)"/>; a leaf in
    /// <paramref name="verified"/> (checked against this pin before) passes without a new chain check, and a leaf
    /// that passes is added to it.
    /// </summary>
    public bool ValidatesServer(X509Certificate2 leaf, IEnumerable<X509Certificate2> presented, VerifiedCertificates? verified, out string error)
    {
        ArgumentNullException.ThrowIfNull(leaf);
        ArgumentNullException.ThrowIfNull(presented);
        if (verified?.Contains(leaf) == true)
        {
            error = string.Empty;
            return true;
        }

        var anchor = presented.Append(leaf).FirstOrDefault(Matches);
        if (anchor is null)
        {
            error = "the server did not present the pinned appliance CA (fingerprint " + Hex + ")";
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(anchor);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ExtraStore.AddRange(presented.ToArray());
        if (!chain.Build(leaf))
        {
            var status = chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0);
            error = "the server certificate does not chain to the pinned appliance CA: " + string.Join("; ", status);
            return false;
        }

        verified?.Add(leaf, chain);
        error = string.Empty;
        return true;
    }
}
