using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using PrivateServer.Server.Auth;

namespace PrivateServer.Server.Web.Pages.Password;

/// <summary>Sets a password through a mailed link (invitation or reset); the link works once.</summary>
[AllowAnonymous]
public sealed class SetModel(PasswordLinks links) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? Token { get; set; }

    /// <summary>The account the live link is for; null when the link does not work (any more).</summary>
    public string? Account { get; private set; }

    public PasswordLinkOutcome? Outcome { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Account = await links.CheckAsync(Token, cancellationToken);
        if (Account is null)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
        }
    }

    public async Task OnPostAsync(string? password, string? repeat, CancellationToken cancellationToken)
    {
        Account = await links.CheckAsync(Token, cancellationToken);
        Outcome = await links.SetPasswordAsync(Token, password, repeat, HttpContext.Connection.RemoteIpAddress?.ToString(), cancellationToken);
        if (Outcome == PasswordLinkOutcome.InvalidLink)
        {
            Account = null;
            Response.StatusCode = StatusCodes.Status404NotFound;
        }
        else if (Outcome != PasswordLinkOutcome.Set)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }
    }
}
