using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using PrivateServer.Server.Auth;

namespace PrivateServer.Server.Web.Pages;

[AllowAnonymous]
public sealed class LoginModel(LoginService logins) : PageModel
{
    [BindProperty]
    public string UserName { get; set; } = string.Empty;

    [BindProperty]
    public string Password { get; set; } = string.Empty;

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public bool Failed { get; private set; }

    /// <summary>"3 min": set when the attempt was refused unchecked after too many failures.</summary>
    public string? WaitText { get; private set; }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var (user, wait) = await logins.SignInAsync(UserName, Password, HttpContext.Connection.RemoteIpAddress, cancellationToken);
        Password = string.Empty;
        if (user is null)
        {
            Failed = true;
            WaitText = wait is { } w ? LoginThrottle.WaitText(w) : null;
            Response.StatusCode = wait is null ? StatusCodes.Status401Unauthorized : StatusCodes.Status429TooManyRequests;
            return Page();
        }

        await HttpContext.SignInAsync(
            CookieAuthenticationDefaults.AuthenticationScheme, WebUsers.Principal(user, CookieAuthenticationDefaults.AuthenticationScheme));
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl! : "/");
    }
}
