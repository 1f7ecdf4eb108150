using System.Globalization;
using PrivateServer.Protocol.Sessions;

namespace PrivateServer.SupporterModule.Session;

/// <summary>A local port that becomes relay streams to one of the host's services: NAME=LOCALPORT (0 picks a free port).</summary>
internal sealed record Forward(string Service, int LocalPort)
{
    public static Forward Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            throw new ArgumentException($"--forward '{text}' is not NAME=LOCALPORT");
        }

        var service = text[..equals];
        if (!SessionPermissions.IsValidServiceName(service))
        {
            throw new ArgumentException($"--forward '{text}': a service name is 1–32 lower-case letters, digits, '-' or '_'");
        }

        if (!int.TryParse(text[(equals + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw new ArgumentException($"--forward '{text}': the local port must be 0–65535");
        }

        return new Forward(service, port);
    }
}
