using Microsoft.AspNetCore.Mvc;
using PrivateServer.Server.Broker;

namespace PrivateServer.Server.Web.Pages.Audit;

/// <summary>The auditor's session list, read-only, filtered by day range, host and supporter.</summary>
public sealed class AuditIndexModel(ISessionLog sessions, TimeProvider time) : AuditRangePage
{
    public const int Limit = 500;

    [BindProperty(SupportsGet = true)]
    public string? Host { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Supporter { get; set; }

    public IReadOnlyList<SessionRecord> Sessions { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var (since, until) = Range();
        Sessions = (await sessions.ListAsync(since ?? DateTimeOffset.MinValue, until ?? time.GetUtcNow().AddMinutes(1), Limit, cancellationToken))
            .Where(x => Matches(x.HostName, Host) || Matches(x.HostId, Host))
            .Where(x => Matches(x.Supporter, Supporter))
            .ToList();
    }

    private static bool Matches(string value, string? wanted) =>
        string.IsNullOrWhiteSpace(wanted) || value.Contains(wanted.Trim(), StringComparison.OrdinalIgnoreCase);
}
