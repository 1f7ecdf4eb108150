using LiteDB;
using PrivateServer.Server.Mail;

namespace PrivateServer.Server.Storage;

/// <summary>The admin center's smarthost settings: document <c>mail</c> of <c>settings</c> (inside the encrypted database).</summary>
internal sealed class LiteDbMailSettingsStore(ApplianceDatabase database) : IMailSettingsStore
{
    private const string DocumentId = "mail";

    private ILiteCollection<MailDocument> Settings => database.Lite.GetCollection<MailDocument>("settings");

    public Task<StoredMailSettings?> GetAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Settings.FindById(DocumentId)?.ToSettings());
    }

    public Task SaveAsync(StoredMailSettings? settings, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Write(database, settings);
        return Task.CompletedTask;
    }

    /// <summary>Stores the mail page's settings, or (null) removes them (inside the caller's transaction, if any).</summary>
    internal static void Write(ApplianceDatabase database, StoredMailSettings? settings)
    {
        var collection = database.Lite.GetCollection<MailDocument>("settings");
        if (settings is null)
        {
            collection.Delete(DocumentId);
            return;
        }

        collection.Upsert(new MailDocument
        {
            Id = DocumentId,
            Host = settings.Host,
            Port = settings.Port,
            Security = settings.Security.ToString(),
            User = settings.User,
            Password = settings.Password,
            From = settings.From,
            Trust = settings.Trust.ToString(),
            CaPem = settings.CaPem,
            UpdatedAt = settings.UpdatedAt.UtcDateTime,
        });
    }

    internal sealed class MailDocument
    {
        [BsonId]
        public string Id { get; set; } = string.Empty;

        public string Host { get; set; } = string.Empty;

        public int Port { get; set; }

        public string Security { get; set; } = string.Empty;

        public string? User { get; set; }

        public string? Password { get; set; }

        public string From { get; set; } = string.Empty;

        public string Trust { get; set; } = string.Empty;

        public string? CaPem { get; set; }

        public DateTime UpdatedAt { get; set; }

        public StoredMailSettings ToSettings() => new(
            Host, Port, Enum.Parse<MailSecurity>(Security), User, Password, From, Enum.Parse<MailTrust>(Trust), CaPem, StorageMapper.Utc(UpdatedAt));
    }
}
