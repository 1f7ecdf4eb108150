using Microsoft.Extensions.Logging;
using PrivateServer.Protocol.Control;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Broker;
using PrivateServer.Server.Hosts;
using PrivateServer.Server.Tls;

namespace PrivateServer.Server.Admin;

/// <summary>Enrolment tokens, the host list and revocation.</summary>
public sealed partial class HostAdministration(
    IHostStore hosts,
    IGroupStore groups,
    HostPresence presence,
    AuditTrail audit,
    TimeProvider time,
    ILogger<HostAdministration> logger,
    HostCertificateValidator? validator = null)
{
    public static readonly TimeSpan DefaultTokenLifetime = TimeSpan.FromHours(24);
    public static readonly TimeSpan MaximumTokenLifetime = TimeSpan.FromDays(30);

    /// <summary>How many hosts one enrolment token may enrol at most (a mass rollout).</summary>
    public const int MaximumTokenUses = 100_000;

    public async Task<AdminOutcome<EnrollmentTokenView>> CreateEnrollmentTokenAsync(CreateEnrollmentTokenRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var group = AccountName.IsValid(request.Group) ? await groups.FindAsync(request.Group, cancellationToken) : null;
        if (group is null)
        {
            return AdminOutcome.Fail<EnrollmentTokenView>(
                AdminFailureKind.NotFound, $"group '{request.Group}' does not exist; create it first with 'privateserver group add {request.Group}'");
        }

        var lifetime = request.ExpiresInSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : DefaultTokenLifetime;
        if (lifetime <= TimeSpan.Zero || lifetime > MaximumTokenLifetime)
        {
            return AdminOutcome.Fail<EnrollmentTokenView>(AdminFailureKind.Invalid, "an enrolment token expires after at most 30 days");
        }

        var maxUses = request.MaxUses ?? 1;
        if (maxUses is < 1 or > MaximumTokenUses)
        {
            return AdminOutcome.Fail<EnrollmentTokenView>(
                AdminFailureKind.Invalid, $"an enrolment token may be used by 1 to {MaximumTokenUses} hosts, not {maxUses}");
        }

        var now = time.GetUtcNow();
        var token = SecretToken.New();
        var change = new AtomicChange();
        change.NewEnrollmentTokens.Add(new EnrollmentToken(SecretToken.Hash(token), group.Name, now, now + lifetime, maxUses, 0, null, null, null));
        change.Audit.Add(audit.ChangeEntry(
            "enroll-token.created", group.Name,
            AuditTrail.Details(
                ("token-id", SecretToken.Hash(token)[..TokenIdLength]), ("expires", (now + lifetime).ToString("O", System.Globalization.CultureInfo.InvariantCulture)),
                ("max-uses", maxUses.ToString(System.Globalization.CultureInfo.InvariantCulture)))));
        await audit.WriteAsync(change, CancellationToken.None);
        LogTokenCreated(logger, group.Name, maxUses, now + lifetime);
        return AdminOutcome.Success(new EnrollmentTokenView(token, group.Name, now + lifetime, maxUses));
    }

    public async Task<IReadOnlyList<HostView>> ListHostsAsync(CancellationToken cancellationToken) =>
        (await hosts.ListAsync(cancellationToken)).Select(View).ToList();

    public async Task<AdminOutcome<HostView>> RevokeHostAsync(string host, CancellationToken cancellationToken)
    {
        var all = await hosts.ListAsync(cancellationToken);
        var matches = all.Where(h => string.Equals(h.Id, host, StringComparison.Ordinal)).ToList();
        if (matches.Count == 0)
        {
            matches = all.Where(h => string.Equals(h.Name, host, StringComparison.OrdinalIgnoreCase) && !h.Revoked).ToList();
        }

        if (matches.Count == 0)
        {
            return AdminOutcome.Fail<HostView>(AdminFailureKind.NotFound, $"no host '{host}' (see 'privateserver host list')");
        }

        if (matches.Count > 1)
        {
            return AdminOutcome.Fail<HostView>(
                AdminFailureKind.Invalid, $"{matches.Count} hosts are named '{host}'; revoke by id ({string.Join(", ", matches.Select(h => h.Id))})");
        }

        var target = matches[0];
        var now = time.GetUtcNow();
        var change = new AtomicChange();
        change.HostEdits.Add(new HostEdit(target.Id, stored => stored with { RevokedAt = stored.RevokedAt ?? now }));
        change.Audit.Add(audit.ChangeEntry("host.revoked", target.Name, AuditTrail.Details(("host-id", target.Id))));
        await audit.WriteAsync(change, CancellationToken.None);
        validator?.Revoke(target.CertificateThumbprint);
        if (presence.Find(target.Id) is { } online)
        {
            using var notify = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await online.Channel.SendAsync(new ChannelError("this host was revoked by an admin; enrol it again to use it"), notify.Token);
                await online.Channel.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.PolicyViolation, "revoked", notify.Token);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or System.Net.WebSockets.WebSocketException or ObjectDisposedException)
            {
                // It is being closed anyway.
            }

            online.Close("the host was revoked");
        }

        LogRevoked(logger, target.Name, target.Id);
        return AdminOutcome.Success(View((await hosts.FindAsync(target.Id, cancellationToken))!));
    }

    /// <summary>Moves a host to another existing group; its supporters change with it.</summary>
    public async Task<AdminOutcome<HostView>> MoveHostAsync(string hostId, string group, CancellationToken cancellationToken)
    {
        var target = await groups.FindAsync(group, cancellationToken);
        if (target is null)
        {
            return AdminOutcome.Fail<HostView>(AdminFailureKind.NotFound, $"group '{group}' does not exist");
        }

        if (await hosts.FindAsync(hostId, cancellationToken) is null)
        {
            return AdminOutcome.Fail<HostView>(AdminFailureKind.NotFound, $"no host '{hostId}'");
        }

        var change = new AtomicChange();
        change.HostEdits.Add(new HostEdit(hostId, stored => stored with { Group = target.Name }));
        change.Audit.Add(audit.ChangeEntry("host.moved", hostId, AuditTrail.Details(("group", target.Name))));
        await audit.WriteAsync(change, CancellationToken.None);
        LogMoved(logger, hostId, target.Name);
        return AdminOutcome.Success(View((await hosts.FindAsync(hostId, cancellationToken))!));
    }

    /// <summary>The enrolment tokens, identified by the first <see cref="TokenIdLength"/> characters of their hash.</summary>
    public async Task<IReadOnlyList<EnrollmentTokenListing>> ListTokensAsync(CancellationToken cancellationToken) =>
        (await hosts.ListTokensAsync(cancellationToken))
            .Select(t => new EnrollmentTokenListing(t.Hash[..TokenIdLength], t.Group, t.CreatedAt, t.ExpiresAt, t.MaxUses, t.Uses, t.UsedByHost))
            .ToList();

    public const int TokenIdLength = 12;

    /// <summary>Deletes the enrolment token whose hash starts with the id from the list; hosts enrolled with it stay.</summary>
    public async Task<AdminOutcome<EnrollmentTokenListing>> DeleteTokenAsync(string id, CancellationToken cancellationToken)
    {
        var token = id.Length == TokenIdLength
            ? (await hosts.ListTokensAsync(cancellationToken)).SingleOrDefault(t => t.Hash.StartsWith(id, StringComparison.Ordinal))
            : null;
        if (token is null)
        {
            return AdminOutcome.Fail<EnrollmentTokenListing>(AdminFailureKind.NotFound, $"no enrolment token '{id}'");
        }

        var change = new AtomicChange();
        change.DeletedEnrollmentTokens.Add(token.Hash);
        change.Audit.Add(audit.ChangeEntry("enroll-token.deleted", token.Group, AuditTrail.Details(("token-id", id))));
        try
        {
            await audit.WriteAsync(change, CancellationToken.None);
        }
        catch (AtomicConflictException)
        {
            return AdminOutcome.Fail<EnrollmentTokenListing>(AdminFailureKind.NotFound, $"no enrolment token '{id}'");
        }

        LogTokenDeleted(logger, id, token.Group);
        return AdminOutcome.Success(new EnrollmentTokenListing(id, token.Group, token.CreatedAt, token.ExpiresAt, token.MaxUses, token.Uses, token.UsedByHost));
    }

    private HostView View(HostRecord host)
    {
        var online = presence.Find(host.Id);
        return new HostView(
            host.Id, host.Name, host.Group, online is not null, host.LastSeen, host.Os, host.ModuleVersion,
            online?.Hello.Services ?? host.Services, host.Revoked, host.EnrolledAt);
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "Enrolment token created for group {Group}, {MaxUses} use(s), valid until {ExpiresAt:u}")]
    private static partial void LogTokenCreated(ILogger logger, string group, int maxUses, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Host {HostId} moved to group {Group}")]
    private static partial void LogMoved(ILogger logger, string hostId, string group);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "Enrolment token {TokenId} of group {Group} deleted")]
    private static partial void LogTokenDeleted(ILogger logger, string tokenId, string group);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Host {HostName} ({HostId}) revoked")]
    private static partial void LogRevoked(ILogger logger, string hostName, string hostId);
}
