using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using PrivateServer.Server.Settings;
using PrivateServer.Server.Web.Profile;

namespace PrivateServer.Server.Web.Pages.Admin;

/// <summary>Settings: support terms (de, en), session code lifetime, company name and logo. Empty fields fall back to the configuration.</summary>
public sealed class AdminSettingsModel(SettingsService settings) : AdminPage
{
    public EffectiveSettings Current { get; private set; } = null!;

    /// <summary>What was wrong with an uploaded logo (a resource key).</summary>
    public string? LogoProblem { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken) => Current = await settings.CurrentAsync(cancellationToken);

    public async Task<IActionResult> OnPostSaveAsync(
        string? companyName, int? codeLifetimeMinutes, string? termsDe, string? termsEn, CancellationToken cancellationToken)
    {
        var change = new SettingsChange(
            new Dictionary<string, string?>(StringComparer.Ordinal) { ["de"] = termsDe, ["en"] = termsEn }, codeLifetimeMinutes, companyName);
        var outcome = await settings.UpdateAsync(change, User.Identity!.Name!, cancellationToken);
        Apply(outcome, "SettingsSaved", string.Empty);
        Current = outcome.Value ?? await settings.CurrentAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostLogoAsync(IFormFile? logo, CancellationToken cancellationToken)
    {
        var (image, problem) = await ProfilePictures.ReadImageAsync(logo, cancellationToken);
        if (image is { } accepted)
        {
            Current = await settings.SetLogoAsync(accepted.ContentType, accepted.Bytes, User.Identity!.Name!, cancellationToken);
            Done = ("LogoSaved", string.Empty);
        }
        else
        {
            LogoProblem = problem;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            Current = await settings.CurrentAsync(cancellationToken);
        }

        return Page();
    }

    public async Task<IActionResult> OnPostRemoveLogoAsync(CancellationToken cancellationToken)
    {
        Current = await settings.SetLogoAsync(null, null, User.Identity!.Name!, cancellationToken);
        Done = ("LogoRemoved", string.Empty);
        return Page();
    }

    /// <summary>The stored terms of a language (empty when the configured ones apply).</summary>
    public string StoredTerms(string language) => Current.Stored.SupportTerms.TryGetValue(language, out var text) ? text : string.Empty;

    /// <summary>The configured terms of a language, shown as the field's placeholder.</summary>
    public string ConfiguredTerms(string language) => Current.Configured.SupportTerms.TryGetValue(language, out var text) ? text : string.Empty;
}
