using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Web.SignIn;

namespace PrivateServer.Server.Web.Pages.SignIn;

/// <summary>The second step of a sign-in: the code of the authenticator app, or a recovery code.</summary>
[AllowAnonymous]
public sealed class CodeModel(LoginService logins, PendingSignIns pending) : PageModel
{
    [BindProperty]
    public string Code { get; set; } = string.Empty;

    public bool Failed { get; private set; }

    /// <summary>"3 min": set when the attempt was refused unchecked after too many failures.</summary>
    public string? WaitText { get; private set; }

    public IActionResult OnGet() => pending.Read(HttpContext) is null ? Redirect("/login") : Page();

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (pending.Read(HttpContext) is not { } signIn)
        {
            return Redirect("/login");
        }

        var outcome = await logins.SecondStepAsync(signIn.Name, signIn.Credential, Code, HttpContext.Connection.RemoteIpAddress, cancellationToken);
        Code = string.Empty;
        if (outcome.User is { } user)
        {
            return LocalRedirect(await PendingSignIns.FinishAsync(HttpContext, user, signIn.ReturnUrl, Url));
        }

        if (outcome.WaitFor is { } wait)
        {
            WaitText = LoginThrottle.WaitText(wait);
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            return Page();
        }

        if (outcome.SecondFactor is { Step: SecondFactorStep.Enrol })
        {
            // The second factor was reset meanwhile and is required: set up a new one.
            return Redirect("/login/enrol");
        }

        if (outcome.SecondFactor is null)
        {
            // The password changed or the account was disabled since the first step: start over.
            PendingSignIns.End(HttpContext);
            return Redirect("/login");
        }

        Failed = true;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        return Page();
    }
}
