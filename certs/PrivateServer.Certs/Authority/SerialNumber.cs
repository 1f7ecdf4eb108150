using System.Security.Cryptography;

namespace PrivateServer.Certs.Authority;

/// <summary>Certificate serial numbers: 128 random bits, positive, never zero (RFC 5280 4.1.2.2).</summary>
internal static class SerialNumber
{
    public static byte[] NewRandom()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        serial[0] |= 0x01;
        return serial;
    }
}
