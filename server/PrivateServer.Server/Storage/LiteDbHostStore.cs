using LiteDB;
using PrivateServer.Server.Hosts;

namespace PrivateServer.Server.Storage;

/// <summary>Hosts in <c>hosts</c> (keyed by host id), enrolment tokens in <c>enrollmentTokens</c> (keyed by token hash).</summary>
internal sealed class LiteDbHostStore(ApplianceDatabase database) : IHostStore
{
    private ILiteCollection<HostDocument> Hosts => HostsOf(database);

    private ILiteCollection<TokenDocument> Tokens => TokensOf(database);

    private static ILiteCollection<HostDocument> HostsOf(ApplianceDatabase database) => database.Lite.GetCollection<HostDocument>("hosts");

    private static ILiteCollection<TokenDocument> TokensOf(ApplianceDatabase database) => database.Lite.GetCollection<TokenDocument>("enrollmentTokens");

    public Task<HostRecord?> FindAsync(string id, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Hosts.FindById(id)?.ToRecord());
    }

    public Task<IReadOnlyList<HostRecord>> ListAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        IReadOnlyList<HostRecord> hosts = Hosts.FindAll().Select(d => d.ToRecord()).OrderBy(h => h.Name, StringComparer.OrdinalIgnoreCase).ToList();
        return Task.FromResult(hosts);
    }

    public Task AddTokenAsync(EnrollmentToken token, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        AddToken(database, token);
        return Task.CompletedTask;
    }

    /// <summary>Stores an enrolment token (inside the caller's transaction, if any).</summary>
    internal static void AddToken(ApplianceDatabase database, EnrollmentToken token) =>
        TokensOf(database).Insert(TokenDocument.From(token));

    /// <summary>Deletes an enrolment token (inside the caller's transaction, if any); false when it is gone.</summary>
    internal static bool DeleteToken(ApplianceDatabase database, string hash) =>
        TokensOf(database).Delete(hash);

    /// <summary>Changes the host as stored now (inside the caller's transaction).</summary>
    internal static void Edit(ApplianceDatabase database, string id, Func<HostRecord, HostRecord> edit)
    {
        var hosts = HostsOf(database);
        var stored = hosts.FindById(id)?.ToRecord() ?? throw new InvalidOperationException($"Host '{id}' does not exist.");
        hosts.Update(HostDocument.From(edit(stored)));
    }

    public Task<EnrollmentToken?> FindTokenAsync(string hash, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Tokens.FindById(hash)?.ToToken());
    }

    /// <summary>
    /// Adds an enrolled host and counts its token's use (inside the caller's transaction); false, with nothing written,
    /// when the token is gone, has no use left at the time of the enrolment, has expired, or is of another group.
    /// </summary>
    internal static bool Enrol(ApplianceDatabase database, Audit.HostEnrolment enrolment)
    {
        var tokens = TokensOf(database);
        var token = tokens.FindById(enrolment.TokenHash)?.ToToken();
        var host = enrolment.Host;
        if (token is null || token.UsedUp || token.ExpiresAt <= enrolment.At || token.Group != host.Group)
        {
            return false;
        }

        HostsOf(database).Insert(HostDocument.From(host));
        tokens.Update(TokenDocument.From(token with
        {
            Uses = token.Uses + 1,
            FirstUsedByHost = token.FirstUsedByHost ?? host.Id,
            UsedAt = enrolment.At,
            UsedByHost = host.Id,
        }));
        return true;
    }

    public Task UpdatePresenceAsync(
        string id, DateTimeOffset lastSeen, string? os, string? moduleVersion, IReadOnlyList<string>? services, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var document = Hosts.FindById(id);
        if (document is not null)
        {
            document.LastSeen = lastSeen.UtcDateTime;
            document.Os = os ?? document.Os;
            document.ModuleVersion = moduleVersion ?? document.ModuleVersion;
            document.Services = services?.ToList() ?? document.Services;
            Hosts.Update(document);
        }

        return Task.CompletedTask;
    }

    public Task<bool> RevokeAsync(string id, DateTimeOffset at, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var document = Hosts.FindById(id);
        if (document is null)
        {
            return Task.FromResult(false);
        }

        document.RevokedAt ??= at.UtcDateTime;
        Hosts.Update(document);
        return Task.FromResult(true);
    }

    public Task<bool> MoveAsync(string id, string group, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var document = Hosts.FindById(id);
        if (document is null)
        {
            return Task.FromResult(false);
        }

        document.Group = group;
        return Task.FromResult(Hosts.Update(document));
    }

    public Task<IReadOnlyList<EnrollmentToken>> ListTokensAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        IReadOnlyList<EnrollmentToken> tokens = Tokens.FindAll().Select(t => t.ToToken()).OrderBy(t => t.CreatedAt).ToList();
        return Task.FromResult(tokens);
    }

    public Task<bool> DeleteTokenAsync(string hash, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Tokens.Delete(hash));
    }

    internal sealed class HostDocument
    {
        [BsonId]
        public string Id { get; set; } = string.Empty;

        public string Name { get; set; } = string.Empty;

        public string Group { get; set; } = string.Empty;

        public string CertificateSerial { get; set; } = string.Empty;

        public string CertificateThumbprint { get; set; } = string.Empty;

        public DateTime EnrolledAt { get; set; }

        public DateTime? LastSeen { get; set; }

        public string? Os { get; set; }

        public string? ModuleVersion { get; set; }

        public List<string> Services { get; set; } = [];

        public DateTime? RevokedAt { get; set; }

        public static HostDocument From(HostRecord host) => new()
        {
            Id = host.Id,
            Name = host.Name,
            Group = host.Group,
            CertificateSerial = host.CertificateSerial,
            CertificateThumbprint = host.CertificateThumbprint,
            EnrolledAt = host.EnrolledAt.UtcDateTime,
            LastSeen = host.LastSeen?.UtcDateTime,
            Os = host.Os,
            ModuleVersion = host.ModuleVersion,
            Services = host.Services.ToList(),
            RevokedAt = host.RevokedAt?.UtcDateTime,
        };

        public HostRecord ToRecord() => new(
            Id, Name, Group, CertificateSerial, CertificateThumbprint, StorageMapper.Utc(EnrolledAt),
            LastSeen is { } seen ? StorageMapper.Utc(seen) : null, Os, ModuleVersion, Services, RevokedAt is { } revoked ? StorageMapper.Utc(revoked) : null);
    }

    internal sealed class TokenDocument
    {
        [BsonId]
        public string Id { get; set; } = string.Empty;

        public string Group { get; set; } = string.Empty;

        public DateTime CreatedAt { get; set; }

        public DateTime ExpiresAt { get; set; }

        /// <summary>Missing in tokens written before multi-use tokens: those are single-use.</summary>
        public int? MaxUses { get; set; }

        /// <summary>Missing in tokens written before multi-use tokens: 1 if <see cref="UsedAt"/> is set, else 0.</summary>
        public int? Uses { get; set; }

        public string? FirstUsedByHost { get; set; }

        /// <summary>When the token was last used.</summary>
        public DateTime? UsedAt { get; set; }

        /// <summary>The host that used the token last.</summary>
        public string? UsedByHost { get; set; }

        public static TokenDocument From(EnrollmentToken token) => new()
        {
            Id = token.Hash,
            Group = token.Group,
            CreatedAt = token.CreatedAt.UtcDateTime,
            ExpiresAt = token.ExpiresAt.UtcDateTime,
            MaxUses = token.MaxUses,
            Uses = token.Uses,
            FirstUsedByHost = token.FirstUsedByHost,
            UsedAt = token.UsedAt?.UtcDateTime,
            UsedByHost = token.UsedByHost,
        };

        public EnrollmentToken ToToken() => new(
            Id,
            Group,
            StorageMapper.Utc(CreatedAt),
            StorageMapper.Utc(ExpiresAt),
            MaxUses ?? 1,
            Uses ?? (UsedAt is null ? 0 : 1),
            FirstUsedByHost ?? (Uses is null ? UsedByHost : null),
            UsedAt is { } used ? StorageMapper.Utc(used) : null,
            UsedByHost);
    }
}
