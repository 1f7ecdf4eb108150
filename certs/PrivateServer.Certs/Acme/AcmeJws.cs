using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PrivateServer.Certs.Acme;

/// <summary>JSON Web Signatures for ACME (RFC 8555 §6.2, RFC 7515 flattened JSON), ES256 with a P-256 account key.</summary>
public static class AcmeJws
{
    /// <summary>The account key's public JWK (RFC 7517), members in the order RFC 7638 hashes them.</summary>
    public static JsonObject Jwk(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var parameters = key.ExportParameters(includePrivateParameters: false);
        return new JsonObject
        {
            ["crv"] = "P-256",
            ["kty"] = "EC",
            ["x"] = Base64Url(parameters.Q.X!),
            ["y"] = Base64Url(parameters.Q.Y!),
        };
    }

    /// <summary>The JWK thumbprint (RFC 7638, SHA-256, base64url): the second half of every key authorization.</summary>
    public static string Thumbprint(ECDsa key) =>
        Base64Url(SHA256.HashData(Encoding.UTF8.GetBytes(Jwk(key).ToJsonString(new JsonSerializerOptions { WriteIndented = false }))));

    /// <summary>A flattened JWS: the payload (null for POST-as-GET) signed for <paramref name="url"/> with the nonce; by account URL (kid) or, before there is one, by JWK.</summary>
    public static string Sign(ECDsa key, string url, string nonce, string? accountUrl, JsonNode? payload)
    {
        ArgumentNullException.ThrowIfNull(key);
        var header = new JsonObject { ["alg"] = "ES256", ["nonce"] = nonce, ["url"] = url };
        if (accountUrl is null)
        {
            header["jwk"] = Jwk(key);
        }
        else
        {
            header["kid"] = accountUrl;
        }

        var protectedPart = Base64Url(Encoding.UTF8.GetBytes(header.ToJsonString()));
        var payloadPart = payload is null ? string.Empty : Base64Url(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        var signature = key.SignData(Encoding.ASCII.GetBytes(protectedPart + "." + payloadPart), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return new JsonObject { ["protected"] = protectedPart, ["payload"] = payloadPart, ["signature"] = Base64Url(signature) }.ToJsonString();
    }

    public static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
