using System.Globalization;
using System.Net;

namespace PrivateServer.Appliance.Hosting;

/// <summary>One address the appliance listens on, parsed from an https:// URL of <c>--urls</c>.</summary>
public sealed record ListenAddress(IPEndPoint EndPoint)
{
    /// <summary>
    /// Parses "https://HOST:PORT[;...]" where HOST is an IP address, <c>localhost</c> (both loopback
    /// addresses), or <c>*</c>/<c>+</c> (all IPv4 and IPv6 addresses). Only https is served.
    /// </summary>
    public static IReadOnlyList<ListenAddress> ParseAll(string urls)
    {
        ArgumentNullException.ThrowIfNull(urls);
        var addresses = new List<ListenAddress>();
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            addresses.AddRange(Parse(url));
        }

        return addresses.Count > 0 ? addresses : throw new ConfigurationException("no address to listen on; give --urls https://HOST:PORT");
    }

    private static IEnumerable<ListenAddress> Parse(string url)
    {
        var wildcard = url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
        if (!Uri.TryCreate(wildcard, UriKind.Absolute, out var uri) || uri.AbsolutePath != "/" || uri.Query.Length > 0)
        {
            throw new ConfigurationException($"'{url}' is not a listen address like https://0.0.0.0:443");
        }

        if (uri.Scheme != Uri.UriSchemeHttps)
        {
            throw new ConfigurationException($"'{url}': the appliance serves HTTPS only; use https://");
        }

        var port = uri.Port;
        if (string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return [new(new IPEndPoint(IPAddress.Loopback, port)), new(new IPEndPoint(IPAddress.IPv6Loopback, port))];
        }

        if (!IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address))
        {
            throw new ConfigurationException(
                string.Create(CultureInfo.InvariantCulture, $"'{url}': listen on an IP address (or localhost, *), not on the name '{uri.Host}'"));
        }

        return url.Contains("://*", StringComparison.Ordinal) || url.Contains("://+", StringComparison.Ordinal)
            ? [new(new IPEndPoint(IPAddress.IPv6Any, port))]
            : [new(new IPEndPoint(address, port))];
    }

    public override string ToString() => "https://" + EndPoint;
}
