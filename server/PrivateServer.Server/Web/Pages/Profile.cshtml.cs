using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Mail;
using PrivateServer.Server.Web.SignIn;
using PrivateServer.Server.Web.Profile;

namespace PrivateServer.Server.Web.Pages;

/// <summary>The signed-in user's own profile: picture (upload, remove; initials otherwise), password and two-factor sign-in.</summary>
public sealed class ProfileModel(
    WebUsers users, IUserStore store, ProfilePictures pictures, PasswordService passwords, UserRevocation revocation,
    TwoFactor twoFactor, LoginThrottle throttle, PendingSignIns pending, PublicAddress address, AuditTrail audit) : PageModel
{
    private const string ConfirmHandler = "TwoFactorConfirm";

    /// <summary>Resource key of what was done.</summary>
    public string? Message { get; private set; }

    /// <summary>Resource key of what was wrong.</summary>
    public string? Problem { get; private set; }

    public bool HasPicture { get; private set; }

    public long PictureVersion { get; private set; }

    public bool TwoFactorEnrolled { get; private set; }

    public bool TwoFactorRequired { get; private set; }

    public int RecoveryCodesLeft { get; private set; }

    /// <summary>Set while an authenticator is being set up: the QR code and the form that confirms it.</summary>
    public TotpSetupForm? Setup { get; private set; }

    /// <summary>New recovery codes, shown once.</summary>
    public IReadOnlyList<string>? RecoveryCodes { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken) =>
        await RenderAsync(null, null, cancellationToken);

    public async Task<IActionResult> OnPostPictureAsync(IFormFile? picture, CancellationToken cancellationToken)
    {
        var user = await users.CurrentAsync(HttpContext, cancellationToken);
        if (user is null)
        {
            return Challenge();
        }

        var problem = await pictures.UploadAsync(user.Name, picture, cancellationToken);
        return await RenderAsync(problem is null ? "PictureSaved" : null, problem, cancellationToken);
    }

    public async Task<IActionResult> OnPostRemovePictureAsync(CancellationToken cancellationToken)
    {
        var user = await users.CurrentAsync(HttpContext, cancellationToken);
        if (user is null)
        {
            return Challenge();
        }

        await pictures.RemoveAsync(user.Name, cancellationToken);
        return await RenderAsync("PictureRemoved", null, cancellationToken);
    }

    public async Task<IActionResult> OnPostPasswordAsync(string? current, string? next, string? repeat, CancellationToken cancellationToken)
    {
        var user = await users.CurrentAsync(HttpContext, cancellationToken);
        if (user is null)
        {
            return Challenge();
        }

        string? problem = null;
        if (passwords.Verify(user.PasswordHash, current ?? string.Empty) == PasswordCheck.Invalid)
        {
            problem = "PasswordWrongCurrent";
        }
        else if (!string.Equals(next, repeat, StringComparison.Ordinal))
        {
            problem = "PasswordMismatch";
        }
        else if (PasswordService.PolicyViolation(next ?? string.Empty, user.Name) is not null)
        {
            problem = "PasswordPolicy";
        }

        if (problem is null)
        {
            var changed = user with { PasswordHash = passwords.Hash(next!) };
            var change = new AtomicChange();
            change.UserEdits.Add(new UserEdit(user.Name, stored => stored with { PasswordHash = changed.PasswordHash }));
            change.Audit.Add(audit.Entry(user.Name, "user.password-changed", user.Name, source: Source));
            await audit.WriteAsync(change, cancellationToken);
            // Everything signed in with the old password ends (other browsers, supporter-module tokens, live sessions);
            // this browser gets a cookie for the new one.
            await revocation.RevokeAsync(user.Name, "the password was changed", cancellationToken);
            await HttpContext.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, WebUsers.Principal(changed, CookieAuthenticationDefaults.AuthenticationScheme));
        }

        return await RenderAsync(problem is null ? "PasswordChanged" : null, problem, cancellationToken);
    }

    /// <summary>Starts setting up an authenticator (a new one replaces the old only once confirmed; replacing takes a current code).</summary>
    public async Task<IActionResult> OnPostTwoFactorSetupAsync(string? code, CancellationToken cancellationToken)
    {
        var user = await users.CurrentAsync(HttpContext, cancellationToken);
        if (user is null)
        {
            return Challenge();
        }

        if (await ProofProblemAsync(user, code, cancellationToken) is { } problem)
        {
            return await RenderAsync(null, problem, cancellationToken);
        }

        var setup = TwoFactor.NewSetup(user.Name, PendingSignIns.Issuer(address));
        Setup = new TotpSetupForm(setup, pending.ProtectSecret(user, setup.Secret), ConfirmHandler);
        return await RenderAsync(null, null, cancellationToken);
    }

    public async Task<IActionResult> OnPostTwoFactorConfirmAsync(string? setupToken, string? code, CancellationToken cancellationToken)
    {
        var user = await users.CurrentAsync(HttpContext, cancellationToken);
        if (user is null)
        {
            return Challenge();
        }

        if (pending.UnprotectSecret(user, setupToken) is not { } secret)
        {
            return await RenderAsync(null, "TwoFactorSetupExpired", cancellationToken);
        }

        RecoveryCodes = await twoFactor.EnrolAsync(user.Name, secret, code, Source, cancellationToken);
        if (RecoveryCodes is null)
        {
            Setup = new TotpSetupForm(TwoFactor.Setup(user.Name, PendingSignIns.Issuer(address), secret), setupToken!, ConfirmHandler);
            return await RenderAsync(null, "TwoFactorSetupWrong", cancellationToken);
        }

        return await RenderAsync("TwoFactorEnabled", null, cancellationToken);
    }

    public async Task<IActionResult> OnPostRecoveryCodesAsync(string? code, CancellationToken cancellationToken)
    {
        var user = await users.CurrentAsync(HttpContext, cancellationToken);
        if (user is null)
        {
            return Challenge();
        }

        if (user.TwoFactor is null)
        {
            return await RenderAsync(null, "TwoFactorNotEnrolled", cancellationToken);
        }

        if (await ProofProblemAsync(user, code, cancellationToken) is { } problem)
        {
            return await RenderAsync(null, problem, cancellationToken);
        }

        RecoveryCodes = await twoFactor.NewRecoveryCodesAsync(user.Name, Source, cancellationToken);
        return await RenderAsync(RecoveryCodes is null ? null : "RecoveryCodesNew", RecoveryCodes is null ? "TwoFactorNotEnrolled" : null, cancellationToken);
    }

    /// <summary>Turns two-factor sign-in off, with a current code (counted like a sign-in, so a left-open browser cannot guess one); not when it is required.</summary>
    public async Task<IActionResult> OnPostTwoFactorRemoveAsync(string? code, CancellationToken cancellationToken)
    {
        var user = await users.CurrentAsync(HttpContext, cancellationToken);
        if (user is null)
        {
            return Challenge();
        }

        if (await twoFactor.IsRequiredAsync(user, cancellationToken))
        {
            return await RenderAsync(null, "TwoFactorCannotRemove", cancellationToken);
        }

        if (user.TwoFactor is null)
        {
            return await RenderAsync(null, "TwoFactorNotEnrolled", cancellationToken);
        }

        if (await ProofProblemAsync(user, code, cancellationToken) is { } problem)
        {
            return await RenderAsync(null, problem, cancellationToken);
        }

        await twoFactor.RemoveAsync(user.Name, user.Name, Source, cancellationToken);
        return await RenderAsync("TwoFactorRemoved", null, cancellationToken);
    }

    private string? Source => HttpContext.Connection.RemoteIpAddress?.ToString();

    /// <summary>
    /// A user with a second factor proves it (a current code or a recovery code, used up) before changing it; counted
    /// like a sign-in, so a browser left open cannot guess one. Returns the problem's resource key, or null.
    /// </summary>
    private async Task<string?> ProofProblemAsync(User user, string? code, CancellationToken cancellationToken)
    {
        if (user.TwoFactor is null)
        {
            return null;
        }

        var source = HttpContext.Connection.RemoteIpAddress;
        if (throttle.Check(user.Name, source).WaitFor is not null)
        {
            return "TwoFactorTooManyTries";
        }

        if (await twoFactor.VerifyAsync(user.Name, code, cancellationToken) == SecondFactorCheck.Invalid)
        {
            throttle.Failed(user.Name, source);
            return "SecondFactorWrong";
        }

        return null;
    }

    private async Task<IActionResult> RenderAsync(string? message, string? problem, CancellationToken cancellationToken)
    {
        var name = User.Identity?.Name ?? string.Empty;
        if (await store.FindAsync(name, cancellationToken) is { } current)
        {
            (TwoFactorEnrolled, RecoveryCodesLeft) = (current.TwoFactor is not null, current.TwoFactor?.RecoveryCodeHashes.Count ?? 0);
            TwoFactorRequired = await twoFactor.IsRequiredAsync(current, cancellationToken);
        }

        var picture = await pictures.FindAsync(name, cancellationToken);
        (Message, Problem, HasPicture, PictureVersion) = (message, problem, picture is not null, picture?.UpdatedAt.ToUnixTimeSeconds() ?? 0);
        if (problem is not null)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }

        return Page();
    }
}
