using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using PrivateServer.Certs.Authority;
using PrivateServer.Protocol;
using PrivateServer.Protocol.Sessions;
using PrivateServer.Server.AdHoc;
using PrivateServer.Server.Mail;
using PrivateServer.Server.Tls;

namespace PrivateServer.Server.Web.Pages.Console;

/// <summary>
/// The in-browser session: the viewer (noVNC over the relay) for an enrolled host, a customer taken
/// from the queue, or the customer who joins with a code created here (shown large with a countdown
/// until the customer arrives). The page only renders; viewer.js speaks the session protocol.
/// </summary>
public sealed class SessionModel(WebUsers users, SessionCodes codes, AdHocInvitations invitations, ServerCertificateStore certificates) : PageModel
{
    public static int ProtocolVersion => ProtocolInfo.Version;

    [BindProperty(SupportsGet = true)]
    public string? Host { get; set; }

    [BindProperty(Name = "request", SupportsGet = true)]
    public string? RequestId { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Mode { get; set; }

    public string? Code { get; private set; }

    public DateTimeOffset? CodeExpires { get; private set; }

    /// <summary>Where the code was mailed, if it was.</summary>
    public string? MailedTo { get; private set; }

    public string ShownCode => Code is null ? string.Empty : SessionCode.Format(Code);

    public string ServerUrl => "https://" + HttpContext.Request.Host.Value;

    public string CaFingerprint => CertificateFingerprint.Sha256Hex(certificates.CaCertificate);

    public IActionResult OnGet()
    {
        Mode = Mode == "view" ? "view" : "control";
        return string.IsNullOrWhiteSpace(Host) && string.IsNullOrWhiteSpace(RequestId) ? LocalRedirect("/console") : Page();
    }

    /// <summary>A new session code for a customer (mailed too when an address is given); the page waits for the customer who types it.</summary>
    public async Task<IActionResult> OnPostCodeAsync(string? email, string? language, CancellationToken cancellationToken)
    {
        var user = await users.CurrentAsync(HttpContext, cancellationToken);
        if (user is null)
        {
            return Challenge();
        }

        email = string.IsNullOrWhiteSpace(email) ? null : email.Trim();
        if (email is not null && !Mailer.IsAddress(email))
        {
            return LocalRedirect("/console?code-mail=invalid");
        }

        (Code, var expires) = await codes.CreateAsync(user, cancellationToken);
        CodeExpires = expires;
        if (email is not null)
        {
            await invitations.MailCodeAsync(user, Code, expires, email, language, cancellationToken);
            MailedTo = email;
        }

        (Host, RequestId, Mode) = (null, null, "control");
        return Page();
    }
}
