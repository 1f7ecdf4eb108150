using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace PrivateServer.Server.Web.Pages;

/// <summary>Where a signed-in user lands on a page of another role: 403, nothing of the page shown.</summary>
public sealed class DeniedModel : PageModel
{
    public void OnGet() => Response.StatusCode = StatusCodes.Status403Forbidden;
}
