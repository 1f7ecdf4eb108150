using System.Globalization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using PrivateServer.Server.Auth;

namespace PrivateServer.Server.Web.Pages.Password;

/// <summary>Asks for a password reset link by user name or e-mail address; the answer never tells whether the account exists.</summary>
[AllowAnonymous]
public sealed class ForgotModel(PasswordLinks links) : PageModel
{
    public bool Sent { get; private set; }

    public async Task OnPostAsync(string? account, CancellationToken cancellationToken)
    {
        await links.RequestResetAsync(
            account ?? string.Empty, CultureInfo.CurrentUICulture.TwoLetterISOLanguageName, HttpContext.Connection.RemoteIpAddress?.ToString(), cancellationToken);
        Sent = true;
    }
}
