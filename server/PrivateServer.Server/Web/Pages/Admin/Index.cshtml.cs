using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Mvc.RazorPages;
using PrivateServer.Certs.Authority;
using PrivateServer.Server.Admin;
using PrivateServer.Server.Tls;

namespace PrivateServer.Server.Web.Pages.Admin;

/// <summary>The admin center's start: counts, and the certificate browsers are shown.</summary>
public sealed class AdminIndexModel(AccountAdministration accounts, HostAdministration hosts, ServerCertificateStore certificates) : PageModel
{
    public sealed record CertificateFacts(string Subject, IReadOnlyList<string> Names, string Issuer, DateTime NotBefore, DateTime NotAfter, string Fingerprint);

    public int Users { get; private set; }

    public int Groups { get; private set; }

    public int Hosts { get; private set; }

    public int HostsOnline { get; private set; }

    public CertificateFacts Certificate { get; private set; } = null!;

    public string CaFingerprint { get; private set; } = string.Empty;

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Users = (await accounts.ListUsersAsync(cancellationToken)).Count;
        Groups = (await accounts.ListGroupsAsync(cancellationToken)).Count;
        var all = (await hosts.ListHostsAsync(cancellationToken)).Where(h => !h.Revoked).ToList();
        (Hosts, HostsOnline) = (all.Count, all.Count(h => h.Online));
        var certificate = certificates.Certificate;
        var names = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>()
            .SelectMany(e => e.EnumerateDnsNames().Concat(e.EnumerateIPAddresses().Select(a => a.ToString())))
            .ToList();
        Certificate = new CertificateFacts(
            certificate.Subject, names, certificate.Issuer, certificate.NotBefore.ToUniversalTime(), certificate.NotAfter.ToUniversalTime(),
            CertificateFingerprint.Sha256Hex(certificate));
        CaFingerprint = CertificateFingerprint.Sha256Hex(certificates.CaCertificate);
    }
}
