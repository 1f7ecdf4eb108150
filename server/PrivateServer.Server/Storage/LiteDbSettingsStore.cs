using LiteDB;
using PrivateServer.Server.Settings;

namespace PrivateServer.Server.Storage;

/// <summary>
/// The admin's settings in <c>settings</c>: one document, <c>admin</c>, beside the database's own
/// <c>appliance</c> document (schema version), which it must never replace. Inside the encrypted
/// database, so backups carry them.
/// </summary>
internal sealed class LiteDbSettingsStore(ApplianceDatabase database) : ISettingsStore
{
    private const string DocumentId = "admin";

    private ILiteCollection<SettingsDocument> Settings => database.Lite.GetCollection<SettingsDocument>("settings");

    public Task<StoredSettings> GetAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var document = Settings.FindById(DocumentId);
        return Task.FromResult(document is null ? StoredSettings.None : document.ToSettings());
    }

    public Task SaveAsync(StoredSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        cancellationToken.ThrowIfCancellationRequested();
        Write(database, settings);
        return Task.CompletedTask;
    }

    /// <summary>Stores the admin's settings (inside the caller's transaction, if any).</summary>
    internal static void Write(ApplianceDatabase database, StoredSettings settings) =>
        database.Lite.GetCollection<SettingsDocument>("settings").Upsert(new SettingsDocument
        {
            Id = DocumentId,
            SupportTerms = new Dictionary<string, string>(settings.SupportTerms, StringComparer.Ordinal),
            CodeLifetimeSeconds = settings.CodeLifetime is { } lifetime ? (long)lifetime.TotalSeconds : null,
            CompanyName = settings.CompanyName,
            LogoContentType = settings.Logo?.ContentType,
            LogoBytes = settings.Logo?.Bytes,
            LogoUpdatedAt = settings.Logo?.UpdatedAt.UtcDateTime,
        });

    internal sealed class SettingsDocument
    {
        [BsonId]
        public string Id { get; set; } = string.Empty;

        public Dictionary<string, string> SupportTerms { get; set; } = new(StringComparer.Ordinal);

        public long? CodeLifetimeSeconds { get; set; }

        public string? CompanyName { get; set; }

        public string? LogoContentType { get; set; }

        public byte[]? LogoBytes { get; set; }

        public DateTime? LogoUpdatedAt { get; set; }

        public StoredSettings ToSettings() => new(
            new Dictionary<string, string>(SupportTerms, StringComparer.Ordinal),
            CodeLifetimeSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
            CompanyName,
            LogoContentType is not null && LogoBytes is not null && LogoUpdatedAt is { } updated
                ? new BrandLogo(LogoContentType, LogoBytes, StorageMapper.Utc(updated))
                : null);
    }
}
