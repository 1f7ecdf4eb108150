using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Broker;

namespace PrivateServer.Server.Web.Pages.Audit;

/// <summary>
/// One session for the auditor, as a report: requested and granted rights, consent and terms, start, end
/// and duration, who ended it and why, and its protocol — every audit event of the session, in order.
/// </summary>
public sealed class AuditSessionModel(ISessionLog sessions, IConsentStore consents, IAuditLog log) : PageModel
{
    [BindProperty(Name = "id", SupportsGet = true)]
    public string? Id { get; set; }

    public SessionRecord? Session { get; private set; }

    public ConsentRecord? Consent { get; private set; }

    public IReadOnlyList<AuditEvent> Protocol { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        Session = string.IsNullOrEmpty(Id) || Id.Length > 64 ? null : await sessions.FindAsync(Id, cancellationToken);
        if (Session is null)
        {
            return NotFound();
        }

        Consent = await consents.FindAsync(Session.Id, cancellationToken);
        Protocol = await log.QueryAsync(null, null, Session.Id, newestFirst: false, 10_000, cancellationToken);
        return Page();
    }
}
