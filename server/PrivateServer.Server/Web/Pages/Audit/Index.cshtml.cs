using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using PrivateServer.Server.Broker;

namespace PrivateServer.Server.Web.Pages.Audit;

/// <summary>The auditor's session list, read-only, filtered by day range, host and supporter.</summary>
public sealed class AuditIndexModel(ISessionLog sessions, TimeProvider time) : PageModel
{
    public const int Limit = 500;

    [BindProperty(SupportsGet = true)]
    public DateOnly? Since { get; set; }

    [BindProperty(SupportsGet = true)]
    public DateOnly? Until { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Host { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Supporter { get; set; }

    public IReadOnlyList<SessionRecord> Sessions { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var since = Since is { } s ? new DateTimeOffset(s.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : DateTimeOffset.MinValue;
        var until = Until is { } u ? new DateTimeOffset(u.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : time.GetUtcNow().AddMinutes(1);
        Sessions = (await sessions.ListAsync(since, until, Limit, cancellationToken))
            .Where(x => Matches(x.HostName, Host) || Matches(x.HostId, Host))
            .Where(x => Matches(x.Supporter, Supporter))
            .ToList();
    }

    private static bool Matches(string value, string? wanted) =>
        string.IsNullOrWhiteSpace(wanted) || value.Contains(wanted.Trim(), StringComparison.OrdinalIgnoreCase);
}
