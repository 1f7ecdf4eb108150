using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Mail;
using PrivateServer.Server.Web.SignIn;

namespace PrivateServer.Server.Web.Pages.SignIn;

/// <summary>
/// Setting up an authenticator at sign-in, for a user who must have a second factor and has none yet: QR code (drawn
/// here, as SVG) and the secret as text, a code from the app to confirm it, then the ten recovery codes, shown once.
/// </summary>
[AllowAnonymous]
public sealed class EnrolModel(LoginService logins, PendingSignIns pending, PublicAddress address, IUserStore users) : PageModel
{
    [BindProperty]
    public string Code { get; set; } = string.Empty;

    [BindProperty]
    public string? SetupToken { get; set; }

    public TotpSetup? Setup { get; private set; }

    /// <summary>Set once the authenticator is confirmed: the codes to write down, and where to go on.</summary>
    public IReadOnlyList<string>? RecoveryCodes { get; private set; }

    public string ContinueUrl { get; private set; } = "/";

    public bool Failed { get; private set; }

    public string? WaitText { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (pending.Read(HttpContext) is not { } signIn || await users.FindAsync(signIn.Name, cancellationToken) is not { } user)
        {
            return Redirect("/login");
        }

        Setup = TwoFactor.NewSetup(user.Name, PendingSignIns.Issuer(address));
        SetupToken = pending.ProtectSecret(user, Setup.Secret);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (pending.Read(HttpContext) is not { } signIn || await users.FindAsync(signIn.Name, cancellationToken) is not { } stored)
        {
            return Redirect("/login");
        }

        if (pending.UnprotectSecret(stored, SetupToken) is not { } secret)
        {
            return Redirect("/login/enrol");
        }

        var (outcome, codes) = await logins.EnrolAsync(signIn.Name, signIn.Credential, secret, Code, HttpContext.Connection.RemoteIpAddress, cancellationToken);
        Code = string.Empty;
        if (outcome.User is { } user)
        {
            ContinueUrl = await PendingSignIns.FinishAsync(HttpContext, user, signIn.ReturnUrl, Url);
            RecoveryCodes = codes;
            return Page();
        }

        if (outcome.WaitFor is { } wait)
        {
            WaitText = LoginThrottle.WaitText(wait);
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
        }
        else if (outcome.SecondFactor is null)
        {
            PendingSignIns.End(HttpContext);
            return Redirect("/login");
        }
        else
        {
            Failed = true;
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }

        Setup = TwoFactor.Setup(signIn.Name, PendingSignIns.Issuer(address), secret);
        return Page();
    }
}
