using System.Globalization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using PrivateServer.Server.Settings;

namespace PrivateServer.Server.Web.Pages;

/// <summary>The support terms a customer accepts before an ad-hoc session, readable before joining: in the page's language, else English.</summary>
[AllowAnonymous]
public sealed class TermsModel(SettingsService settings) : PageModel
{
    public string? Terms { get; private set; }

    public string? Language { get; private set; }

    public string? CompanyName { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var current = await settings.CurrentAsync(cancellationToken);
        var wanted = CultureInfo.CurrentUICulture.TwoLetterISOLanguageName;
        Language = current.SupportTerms.ContainsKey(wanted) ? wanted
            : current.SupportTerms.ContainsKey("en") ? "en"
            : current.SupportTerms.Keys.Order(StringComparer.Ordinal).FirstOrDefault();
        Terms = Language is null ? null : current.SupportTerms[Language];
        CompanyName = current.CompanyName;
    }
}
