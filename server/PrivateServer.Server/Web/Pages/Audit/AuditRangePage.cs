using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace PrivateServer.Server.Web.Pages.Audit;

/// <summary>An auditor page filtered by a range of whole days (UTC), both ends included.</summary>
public abstract class AuditRangePage : PageModel
{
    [BindProperty(SupportsGet = true)]
    public DateOnly? Since { get; set; }

    [BindProperty(SupportsGet = true)]
    public DateOnly? Until { get; set; }

    /// <summary>The range as instants: from the start of <see cref="Since"/> to the end of <see cref="Until"/>; null where open.</summary>
    protected (DateTimeOffset? From, DateTimeOffset? To) Range() =>
        (Since is { } s ? new DateTimeOffset(s.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null,
         Until is { } u ? new DateTimeOffset(u.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null);
}
