using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Web.SignIn;

namespace PrivateServer.Server.Web.Pages;

[AllowAnonymous]
public sealed class LoginModel(LoginService logins, PendingSignIns pending) : PageModel
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
        var outcome = await logins.SignInAsync(UserName, Password, HttpContext.Connection.RemoteIpAddress, cancellationToken);
        var (user, wait) = outcome;
        Password = string.Empty;
        if (outcome.SecondFactor is { } second)
        {
            // The password was right; the second factor (or setting one up) follows on its own page.
            pending.Start(HttpContext, second.User, ReturnUrl);
            return Redirect(second.Step == SecondFactorStep.Enrol ? "/login/enrol" : "/login/code");
        }

        if (user is null)
        {
            Failed = true;
            WaitText = wait is { } w ? LoginThrottle.WaitText(w) : null;
            Response.StatusCode = wait is null ? StatusCodes.Status401Unauthorized : StatusCodes.Status429TooManyRequests;
            return Page();
        }

        return LocalRedirect(await PendingSignIns.FinishAsync(HttpContext, user, ReturnUrl, Url));
    }
}
