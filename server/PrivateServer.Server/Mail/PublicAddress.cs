using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Mail;

/// <summary>
/// The address users reach the appliance at, for links in mail: <c>Appliance:PublicUrl</c> when set,
/// else <c>https://</c> + the server certificate's first DNS name (the first <c>--hostname</c> of
/// <c>init</c>) + the port of the first <c>Appliance:Urls</c> entry unless it is 443.
/// </summary>
public sealed class PublicAddress
{
    private readonly Lazy<Uri> _base;

    public PublicAddress(DataFolder folder, IConfiguration? configuration)
    {
        ArgumentNullException.ThrowIfNull(folder);
        _base = new Lazy<Uri>(() => Resolve(folder, configuration));
    }

    public Uri Base => _base.Value;

    /// <summary>The host name alone (for Message-IDs).</summary>
    public string Host => Base.Host;

    /// <summary>An absolute link to a path on the appliance (path and query as given).</summary>
    public string Link(string pathAndQuery) => new Uri(Base, pathAndQuery).AbsoluteUri;

    private static Uri Resolve(DataFolder folder, IConfiguration? configuration)
    {
        var configured = configuration?["Appliance:PublicUrl"];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Uri.TryCreate(configured.TrimEnd('/') + "/", UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps
                ? uri
                : throw new InvalidOperationException($"Appliance:PublicUrl '{configured}' is not an https:// address");
        }

        var host = "localhost";
        if (File.Exists(folder.ServerCertificatePath))
        {
            using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(folder.ServerCertificatePath));
            var names = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(san => san.EnumerateDnsNames()).ToList();
            host = names.FirstOrDefault(name => !name.Contains('*', StringComparison.Ordinal)) ?? host;
        }

        var port = 443;
        var urls = configuration?["Appliance:Urls"];
        var first = urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        if (first is not null && Uri.TryCreate(first.Replace("://*", "://any", StringComparison.Ordinal).Replace("://+", "://any", StringComparison.Ordinal), UriKind.Absolute, out var listen))
        {
            port = listen.Port;
        }

        return new Uri(port == 443 ? $"https://{host}/" : string.Create(CultureInfo.InvariantCulture, $"https://{host}:{port}/"));
    }
}
