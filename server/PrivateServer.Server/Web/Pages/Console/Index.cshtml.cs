using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using PrivateServer.Protocol.Api;
using PrivateServer.Server.Api;
using PrivateServer.Server.Broker;
using PrivateServer.Server.Hosts;

namespace PrivateServer.Server.Web.Pages.Console;

/// <summary>The supporter's start page: its hosts with live status and search, an ad-hoc code, the waiting customers.</summary>
public sealed class ConsoleModel(WebUsers users, IHostStore hosts, HostPresence presence) : PageModel
{
    public IReadOnlyList<HostSummary> Hosts { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        var user = await users.CurrentAsync(HttpContext, cancellationToken);
        if (user is null)
        {
            return Challenge();
        }

        Hosts = await ModuleApiEndpoints.HostsOfAsync(user, hosts, presence, cancellationToken);
        return Page();
    }
}
