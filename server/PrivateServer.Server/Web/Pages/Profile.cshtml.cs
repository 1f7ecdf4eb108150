using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Web.Profile;

namespace PrivateServer.Server.Web.Pages;

/// <summary>The signed-in user's own profile: picture (upload, remove; initials otherwise) and password.</summary>
public sealed class ProfileModel(WebUsers users, IUserStore store, ProfilePictures pictures, PasswordService passwords, UserRevocation revocation) : PageModel
{
    /// <summary>Resource key of what was done.</summary>
    public string? Message { get; private set; }

    /// <summary>Resource key of what was wrong.</summary>
    public string? Problem { get; private set; }

    public bool HasPicture { get; private set; }

    public long PictureVersion { get; private set; }

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
            await store.UpdateAsync(changed, cancellationToken);
            // Everything signed in with the old password ends (other browsers, supporter-module tokens, live sessions);
            // this browser gets a cookie for the new one.
            await revocation.RevokeAsync(user.Name, "the password was changed", cancellationToken);
            await HttpContext.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, WebUsers.Principal(changed, CookieAuthenticationDefaults.AuthenticationScheme));
        }

        return await RenderAsync(problem is null ? "PasswordChanged" : null, problem, cancellationToken);
    }

    private async Task<IActionResult> RenderAsync(string? message, string? problem, CancellationToken cancellationToken)
    {
        var name = User.Identity?.Name ?? string.Empty;
        var picture = await pictures.FindAsync(name, cancellationToken);
        (Message, Problem, HasPicture, PictureVersion) = (message, problem, picture is not null, picture?.UpdatedAt.ToUnixTimeSeconds() ?? 0);
        if (problem is not null)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }

        return Page();
    }
}
