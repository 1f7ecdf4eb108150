using System.Globalization;

namespace PrivateServer.Appliance.Cli;

/// <summary>Sizes on the command line: bytes, or a number with K, M, G or T (powers of 1024; "MiB" and "MB" alike), e.g. 500M, 2G.</summary>
internal static class SizeText
{
    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        var trimmed = (text ?? string.Empty).Trim().ToUpperInvariant().Replace("IB", string.Empty, StringComparison.Ordinal).TrimEnd('B');
        if (trimmed.Length == 0)
        {
            return false;
        }

        var shift = trimmed[^1] switch
        {
            'K' => 10,
            'M' => 20,
            'G' => 30,
            'T' => 40,
            _ => 0,
        };
        var number = shift == 0 ? trimmed : trimmed[..^1];
        if (!long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value <= 0 || value > (long.MaxValue >> shift))
        {
            return false;
        }

        bytes = value << shift;
        return true;
    }
}
