using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrivateServer.Server.AdHoc;
using PrivateServer.Server.Admin;
using PrivateServer.Server.Audit;

namespace PrivateServer.Server.Settings;

/// <summary>
/// The appliance's settings at run time: what the admin set in the web console (support terms in
/// German and English, the session code lifetime, company name and logo) over the configured
/// <c>Sessions:*</c> values. Kept in memory once read; a change takes effect with the next code,
/// session or page — no restart.
/// </summary>
public sealed partial class SettingsService(ISettingsStore store, IOptions<AdHocOptions> options, AuditTrail audit, TimeProvider time, ILogger<SettingsService> logger) : IDisposable
{
    /// <summary>The languages the admin center edits terms in (the configuration may add others).</summary>
    public static readonly IReadOnlyList<string> TermsLanguages = ["de", "en"];

    public const int MaximumTermsLength = 16 * 1024;
    public const int MaximumCompanyNameLength = 80;
    public const int MinimumCodeLifetimeMinutes = 1;
    public const int MaximumCodeLifetimeMinutes = 24 * 60;

    private readonly SemaphoreSlim _changing = new(1, 1);
    private EffectiveSettings? _current;

    /// <summary>The settings in force.</summary>
    public async Task<EffectiveSettings> CurrentAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _current) is { } current)
        {
            return current;
        }

        var loaded = Combine(await store.GetAsync(cancellationToken));
        Interlocked.CompareExchange(ref _current, loaded, null);
        return Volatile.Read(ref _current)!;
    }

    /// <summary>Applies a change from the admin center; all or nothing.</summary>
    public async Task<AdminOutcome<EffectiveSettings>> UpdateAsync(SettingsChange change, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        var terms = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (language, text) in change.SupportTerms)
        {
            if (!TermsLanguages.Contains(language, StringComparer.Ordinal))
            {
                return AdminOutcome.Fail<EffectiveSettings>(AdminFailureKind.Invalid, $"support terms in '{language}' are not edited here; use de or en");
            }

            var trimmed = text?.Trim() ?? string.Empty;
            if (trimmed.Length > MaximumTermsLength)
            {
                return AdminOutcome.Fail<EffectiveSettings>(
                    AdminFailureKind.Invalid, $"the support terms ({language}) are {trimmed.Length:N0} characters long; at most {MaximumTermsLength:N0} are allowed");
            }

            if (trimmed.Length > 0)
            {
                terms[language] = trimmed.ReplaceLineEndings("\n");
            }
        }

        if (change.CodeLifetimeMinutes is { } minutes and (< MinimumCodeLifetimeMinutes or > MaximumCodeLifetimeMinutes))
        {
            return AdminOutcome.Fail<EffectiveSettings>(
                AdminFailureKind.Invalid, $"a session code lives {MinimumCodeLifetimeMinutes} to {MaximumCodeLifetimeMinutes} minutes, not {minutes}");
        }

        var company = string.IsNullOrWhiteSpace(change.CompanyName) ? null : change.CompanyName.Trim();
        if (company is not null && (company.Length > MaximumCompanyNameLength || company.Any(char.IsControl)))
        {
            return AdminOutcome.Fail<EffectiveSettings>(
                AdminFailureKind.Invalid, $"the company name must be one line of at most {MaximumCompanyNameLength} characters");
        }

        var lifetime = change.CodeLifetimeMinutes is { } set ? TimeSpan.FromMinutes(set) : (TimeSpan?)null;
        var details = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["code-lifetime-minutes"] = lifetime?.TotalMinutes.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "as configured",
            ["company"] = company ?? "-",
        };
        foreach (var (language, text) in terms)
        {
            details["terms-" + language + "-sha256"] = Protocol.Sessions.SupportTerms.Sha256(text);
        }

        var updated = await ChangeAsync(
            stored => stored with { SupportTerms = terms, CodeLifetime = lifetime, CompanyName = company },
            audit.Entry(actor, "settings.changed", "settings", details: details),
            CancellationToken.None);
        var languages = string.Join(", ", terms.Keys);
        LogSettingsChanged(logger, actor, languages, lifetime?.TotalMinutes, company ?? "-");
        return AdminOutcome.Success(updated);
    }

    /// <summary>Replaces the company logo (already checked to be a PNG or JPEG), or removes it with null.</summary>
    public async Task<EffectiveSettings> SetLogoAsync(string? contentType, byte[]? bytes, string actor, CancellationToken cancellationToken)
    {
        var logo = contentType is not null && bytes is not null ? new BrandLogo(contentType, bytes, time.GetUtcNow()) : null;
        var updated = await ChangeAsync(
            stored => stored with { Logo = logo },
            audit.Entry(
                actor, logo is null ? "settings.logo-removed" : "settings.logo-set", "settings",
                details: logo is null ? null : new Dictionary<string, string>(StringComparer.Ordinal) { ["sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(logo.Bytes)) }),
            CancellationToken.None);
        LogLogoChanged(logger, actor, logo?.ContentType ?? "removed", logo?.Bytes.Length ?? 0);
        return updated;
    }

    /// <summary>Stores a change of the settings together with the event recording it, then uses it.</summary>
    private async Task<EffectiveSettings> ChangeAsync(Func<StoredSettings, StoredSettings> change, AuditEntry entry, CancellationToken cancellationToken)
    {
        await _changing.WaitAsync(cancellationToken);
        try
        {
            var stored = change(await store.GetAsync(cancellationToken));
            var atomic = new AtomicChange { ApplianceSettings = stored };
            atomic.Audit.Add(entry);
            await audit.WriteAsync(atomic, cancellationToken);
            var updated = Combine(stored);
            Volatile.Write(ref _current, updated);
            return updated;
        }
        finally
        {
            _changing.Release();
        }
    }

    private EffectiveSettings Combine(StoredSettings stored)
    {
        var configured = new ConfiguredSettings(
            options.Value.SupportTerms
                .Where(t => !string.IsNullOrWhiteSpace(t.Value))
                .ToDictionary(t => t.Key.ToLowerInvariant(), t => t.Value, StringComparer.Ordinal),
            options.Value.CodeLifetime);
        var terms = new Dictionary<string, string>(configured.SupportTerms, StringComparer.Ordinal);
        foreach (var (language, text) in stored.SupportTerms)
        {
            terms[language] = text;
        }

        return new EffectiveSettings(terms, stored.CodeLifetime ?? configured.CodeLifetime, stored.CompanyName, stored.Logo, stored, configured);
    }

    public void Dispose() => _changing.Dispose();

    [LoggerMessage(EventId = 4010, Level = LogLevel.Information, Message = "Settings changed by {Actor}: support terms set in [{Languages}], code lifetime {Minutes} min (empty: as configured), company {Company}")]
    private static partial void LogSettingsChanged(ILogger logger, string actor, string languages, double? minutes, string company);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Information, Message = "Company logo changed by {Actor}: {ContentType}, {Length} bytes")]
    private static partial void LogLogoChanged(ILogger logger, string actor, string contentType, int length);
}
