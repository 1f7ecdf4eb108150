using LiteDB;
using PrivateServer.Server.Broker;

namespace PrivateServer.Server.Storage;

/// <summary>Consent decisions in <c>consents</c>, keyed by session id.</summary>
internal sealed class LiteDbConsentStore(ApplianceDatabase database) : IConsentStore
{
    private ILiteCollection<ConsentDocument> Consents => Open(database);

    public Task AddAsync(ConsentRecord consent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(consent);
        cancellationToken.ThrowIfCancellationRequested();
        Write(database, consent);
        return Task.CompletedTask;
    }

    /// <summary>Stores a host's answer (inside the caller's transaction, if any); a second answer for the same session fails.</summary>
    internal static void Write(ApplianceDatabase database, ConsentRecord consent) => Open(database).Insert(ConsentDocument.From(consent));

    private static ILiteCollection<ConsentDocument> Open(ApplianceDatabase database) => database.Lite.GetCollection<ConsentDocument>("consents");

    public Task<IReadOnlyList<ConsentRecord>> ListAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        IReadOnlyList<ConsentRecord> all = Consents.FindAll().Select(c => c.ToRecord()).OrderBy(c => c.At).ToList();
        return Task.FromResult(all);
    }

    public Task<ConsentRecord?> FindAsync(string sessionId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Consents.FindById(sessionId)?.ToRecord());
    }

    internal sealed class ConsentDocument
    {
        [BsonId]
        public string Id { get; set; } = string.Empty;

        public string Supporter { get; set; } = string.Empty;

        public string HostId { get; set; } = string.Empty;

        public string HostName { get; set; } = string.Empty;

        public string Via { get; set; } = string.Empty;

        public ConsentKind Kind { get; set; }

        public bool Accepted { get; set; }

        public List<string> Granted { get; set; } = [];

        public string? TermsSha256 { get; set; }

        public string? TermsLanguage { get; set; }

        public string? Source { get; set; }

        public DateTime At { get; set; }

        public static ConsentDocument From(ConsentRecord consent) => new()
        {
            Id = consent.SessionId,
            Supporter = consent.Supporter,
            HostId = consent.HostId,
            HostName = consent.HostName,
            Via = consent.Via,
            Kind = consent.Kind,
            Accepted = consent.Accepted,
            Granted = consent.Granted.ToList(),
            TermsSha256 = consent.TermsSha256,
            TermsLanguage = consent.TermsLanguage,
            Source = consent.Source,
            At = consent.At.UtcDateTime,
        };

        public ConsentRecord ToRecord() => new(
            Id, Supporter, HostId, HostName, Via, Kind, Accepted, Granted, TermsSha256, TermsLanguage, Source,
            StorageMapper.Utc(At));
    }
}
