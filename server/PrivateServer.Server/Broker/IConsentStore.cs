namespace PrivateServer.Server.Broker;

/// <summary>How a session was consented to: asked and answered, or allowed by the group's policy.</summary>
public enum ConsentKind
{
    Asked,
    Policy,
}

/// <summary>
/// One consent decision as the database keeps it: which session, who asked, which host (and how it
/// came: enrolled, code or queued request), what was granted, and — for ad-hoc customers — the
/// SHA-256 and language of the support terms the user accepted.
/// </summary>
public sealed record ConsentRecord(
    string SessionId,
    string Supporter,
    string HostId,
    string HostName,
    string Via,
    ConsentKind Kind,
    bool Accepted,
    IReadOnlyList<string> Granted,
    string? TermsSha256,
    string? TermsLanguage,
    string? Source,
    DateTimeOffset At);

/// <summary>Where consent decisions are kept.</summary>
public interface IConsentStore
{
    Task AddAsync(ConsentRecord consent, CancellationToken cancellationToken);

    Task<IReadOnlyList<ConsentRecord>> ListAsync(CancellationToken cancellationToken);

    Task<ConsentRecord?> FindAsync(string sessionId, CancellationToken cancellationToken);
}
