using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using PrivateServer.Server.Broker;

namespace PrivateServer.Server.Web.Pages.Audit;

/// <summary>One session for the auditor: requested and granted rights, consent, start, end, who ended it and why.</summary>
public sealed class AuditSessionModel(ISessionLog sessions, IConsentStore consents) : PageModel
{
    [BindProperty(Name = "id", SupportsGet = true)]
    public string? Id { get; set; }

    public SessionRecord? Session { get; private set; }

    public ConsentRecord? Consent { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        Session = string.IsNullOrEmpty(Id) || Id.Length > 64 ? null : await sessions.FindAsync(Id, cancellationToken);
        if (Session is null)
        {
            return NotFound();
        }

        Consent = await consents.FindAsync(Session.Id, cancellationToken);
        return Page();
    }
}
