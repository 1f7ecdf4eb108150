using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace PrivateServer.Server.Web.Pages;

/// <summary>
/// The warning page for links to other origins (in support terms, names, chat): it shows where the
/// link goes and never redirects by itself — following it is the user's own, deliberate click.
/// </summary>
[AllowAnonymous]
public sealed class LeaveModel : PageModel
{
    [BindProperty(Name = "to", SupportsGet = true)]
    public string? To { get; set; }

    /// <summary>The target when it is an absolute http(s) URL; null otherwise (javascript:, data:, relative...).</summary>
    public string? Target => Uri.TryCreate(To, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri.AbsoluteUri : null;
}
