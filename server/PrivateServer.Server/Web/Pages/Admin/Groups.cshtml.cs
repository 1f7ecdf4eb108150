using Microsoft.AspNetCore.Mvc;
using PrivateServer.Server.Admin;

namespace PrivateServer.Server.Web.Pages.Admin;

/// <summary>Groups: create, members, hosts, policy (unattended consent, allowed features, recording, two-factor sign-in).</summary>
public sealed class AdminGroupsModel(AccountAdministration accounts, HostAdministration hosts) : AdminPage
{
    private IReadOnlyList<UserView> _users = [];
    private IReadOnlyList<HostView> _hosts = [];

    public IReadOnlyList<GroupView> Groups { get; private set; } = [];

    public IEnumerable<string> MembersOf(string group) =>
        _users.Where(u => u.Groups.Contains(group, StringComparer.OrdinalIgnoreCase)).Select(u => u.Name);

    public int HostsIn(string group) => _hosts.Count(h => !h.Revoked && string.Equals(h.Group, group, StringComparison.OrdinalIgnoreCase));

    public Task OnGetAsync(CancellationToken cancellationToken) => LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostAddAsync(string name, string consent, CancellationToken cancellationToken)
    {
        Apply(await accounts.AddGroupAsync(new AddGroupRequest(name, consent), cancellationToken), "GroupAdded", name);
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostPolicyAsync(
        string name, string consent, string[]? features, bool recording, long? maxFileSizeMiB, bool requireTwoFactor, string? signInFrom, string? hostsFrom,
        CancellationToken cancellationToken)
    {
        var maxFileSize = maxFileSizeMiB is { } mib and > 0 and <= long.MaxValue >> 20 ? mib << 20 : (long?)null;
        Apply(await accounts.UpdateGroupAsync(new UpdateGroupRequest(name, consent, features ?? [], recording, maxFileSize, requireTwoFactor)
        {
            SignInFrom = List(signInFrom),
            HostsFrom = List(hostsFrom),
        }, cancellationToken), "GroupSaved", name);
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        Groups = await accounts.ListGroupsAsync(cancellationToken);
        _users = await accounts.ListUsersAsync(cancellationToken);
        _hosts = await hosts.ListHostsAsync(cancellationToken);
    }

    private static string[] List(string? text) =>
        (text ?? string.Empty).Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
