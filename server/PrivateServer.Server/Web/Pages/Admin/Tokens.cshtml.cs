using Microsoft.AspNetCore.Mvc;
using PrivateServer.Certs.Authority;
using PrivateServer.Server.Admin;
using PrivateServer.Server.Tls;

namespace PrivateServer.Server.Web.Pages.Admin;

/// <summary>Enrolment tokens: create (shown once, with the enrol command), list, delete.</summary>
public sealed class AdminTokensModel(AccountAdministration accounts, HostAdministration hosts, ServerCertificateStore certificates) : AdminPage
{
    public IReadOnlyList<EnrollmentTokenListing> Tokens { get; private set; } = [];

    public IReadOnlyList<string> GroupNames { get; private set; } = [];

    public string ServerUrl => "https://" + Request.Host.Value;

    public string CaFingerprint => CertificateFingerprint.Sha256Hex(certificates.CaCertificate);

    public Task OnGetAsync(CancellationToken cancellationToken) => LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostCreateAsync(string group, int hours, int uses, CancellationToken cancellationToken)
    {
        var outcome = await hosts.CreateEnrollmentTokenAsync(new CreateEnrollmentTokenRequest(group, hours * 3600, uses), cancellationToken);
        if (Apply(outcome, "TokenCreated", group))
        {
            Secret = outcome.Value!.Token;
        }

        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostDeleteAsync(string id, CancellationToken cancellationToken)
    {
        Apply(await hosts.DeleteTokenAsync(id, cancellationToken), "TokenDeleted", id);
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        Tokens = await hosts.ListTokensAsync(cancellationToken);
        GroupNames = (await accounts.ListGroupsAsync(cancellationToken)).Select(g => g.Name).ToList();
    }
}
