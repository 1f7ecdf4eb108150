using Microsoft.AspNetCore.Mvc;
using PrivateServer.Server.Admin;

namespace PrivateServer.Server.Web.Pages.Admin;

/// <summary>Hosts: online status, group (move), revoke.</summary>
public sealed class AdminHostsModel(AccountAdministration accounts, HostAdministration hosts) : AdminPage
{
    public IReadOnlyList<HostView> Hosts { get; private set; } = [];

    public IReadOnlyList<string> GroupNames { get; private set; } = [];

    public Task OnGetAsync(CancellationToken cancellationToken) => LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostMoveAsync(string id, string group, CancellationToken cancellationToken)
    {
        var outcome = await hosts.MoveHostAsync(id, group, cancellationToken);
        Apply(outcome, "HostMoved", outcome.Value?.Name ?? id);
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeAsync(string id, CancellationToken cancellationToken)
    {
        var outcome = await hosts.RevokeHostAsync(id, cancellationToken);
        Apply(outcome, "HostRevoked", outcome.Value?.Name ?? id);
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        Hosts = (await hosts.ListHostsAsync(cancellationToken)).OrderBy(h => h.Revoked).ThenBy(h => h.Name, StringComparer.OrdinalIgnoreCase).ToList();
        GroupNames = (await accounts.ListGroupsAsync(cancellationToken)).Select(g => g.Name).ToList();
    }
}
