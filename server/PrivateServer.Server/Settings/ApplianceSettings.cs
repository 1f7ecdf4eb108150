namespace PrivateServer.Server.Settings;

/// <summary>
/// What the admin changed in the web console (<c>settings</c> collection). A null or missing value
/// means "as configured" (<c>Sessions:*</c> in the configuration files), so an admin can always go back.
/// </summary>
public sealed record StoredSettings(
    IReadOnlyDictionary<string, string> SupportTerms,
    TimeSpan? CodeLifetime,
    string? CompanyName,
    BrandLogo? Logo)
{
    public static StoredSettings None { get; } = new(new Dictionary<string, string>(), null, null, null);
}

/// <summary>The company logo shown in the console's header (PNG or JPEG, checked by its first bytes).</summary>
public sealed record BrandLogo(string ContentType, byte[] Bytes, DateTimeOffset UpdatedAt);

/// <summary>
/// The settings in force: the stored ones over the configured ones. Terms are by two-letter language
/// (only non-empty ones); <see cref="Configured"/> are the values an empty field falls back to.
/// </summary>
public sealed record EffectiveSettings(
    IReadOnlyDictionary<string, string> SupportTerms,
    TimeSpan CodeLifetime,
    string? CompanyName,
    BrandLogo? Logo,
    StoredSettings Stored,
    ConfiguredSettings Configured);

/// <summary>The values from the configuration files.</summary>
public sealed record ConfiguredSettings(IReadOnlyDictionary<string, string> SupportTerms, TimeSpan CodeLifetime);

/// <summary>A change to the settings from the admin center: null or empty text falls back to the configured value.</summary>
public sealed record SettingsChange(IReadOnlyDictionary<string, string?> SupportTerms, int? CodeLifetimeMinutes, string? CompanyName);

/// <summary>Where the admin's settings are kept.</summary>
public interface ISettingsStore
{
    Task<StoredSettings> GetAsync(CancellationToken cancellationToken);

    Task SaveAsync(StoredSettings settings, CancellationToken cancellationToken);
}
