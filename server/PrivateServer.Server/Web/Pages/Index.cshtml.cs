using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using PrivateServer.Protocol;

namespace PrivateServer.Server.Web.Pages;

[Authorize]
public sealed class IndexModel : PageModel
{
    public string Version { get; } = ProtocolInfo.ProductVersion(typeof(IndexModel).Assembly);

    /// <summary>Resource key of the signed-in user's role.</summary>
    public string RoleText => User.FindFirstValue(ClaimTypes.Role) switch
    {
        "admin" => "RoleAdmin",
        "auditor" => "RoleAuditor",
        _ => "RoleSupporter",
    };
}
