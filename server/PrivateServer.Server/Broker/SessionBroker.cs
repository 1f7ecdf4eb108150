using System.Collections.Concurrent;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrivateServer.Protocol.Control;
using PrivateServer.Protocol.Sessions;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Hosts;
using PrivateServer.Server.Relay;

namespace PrivateServer.Server.Broker;

/// <summary>
/// Brings supporters and hosts together (DESIGN.md, Session lifecycle): checks the supporter's
/// right to the host, asks the host for consent, hands out stream tickets only for granted
/// services, and ends sessions — on request of either side, when the host goes away, or when it
/// is revoked — closing every stream at once.
/// </summary>
public sealed partial class SessionBroker(
    HostPresence presence,
    RelayRendezvous relay,
    IHostStore hosts,
    IGroupStore groups,
    IOptions<BrokerOptions> options,
    TimeProvider time,
    ILogger<SessionBroker> logger)
{
    private static readonly TimeSpan FirstMessageTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan NotifyTimeout = TimeSpan.FromSeconds(3);

    private readonly ConcurrentDictionary<string, SupportSession> _sessions = new(StringComparer.Ordinal);

    /// <summary>Runs a supporter's session channel from its <see cref="ConnectRequest"/> to the end of the session.</summary>
    public async Task RunSupporterChannelAsync(User supporter, ControlChannel channel, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(supporter);
        ArgumentNullException.ThrowIfNull(channel);
        ConnectRequest request;
        using (var first = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            first.CancelAfter(FirstMessageTimeout);
            var message = await channel.ReceiveAsync(first.Token);
            if (message is null)
            {
                return;
            }

            request = message as ConnectRequest
                ?? throw new ControlProtocolException(WebSocketCloseStatus.PolicyViolation, "a session channel starts with session.connect");
        }

        var (session, refusal) = await OpenSessionAsync(supporter, request, channel, cancellationToken);
        if (session is null)
        {
            LogSessionRefused(logger, supporter.Name, request.Host, refusal!);
            await channel.SendAsync(new SessionRefused(refusal!), cancellationToken);
            await channel.CloseAsync(WebSocketCloseStatus.NormalClosure, "refused", cancellationToken, awaitPeer: true);
            return;
        }

        using (session)
        {
            using var registration = session.Host.Closed.Register(() =>
                _ = EndAsync(session, session.Host.CloseReason ?? "the host went offline", SessionEndedBy.HostGone));
            try
            {
                await channel.SendAsync(
                    new SessionGranted(session.Id, session.Host.Host.Id, session.Host.Host.Name, session.Granted), cancellationToken);
                // Once the session ends the supporter is told why and the channel is closed properly;
                // a supporter that does not answer the close is cut off a few seconds later.
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                using var cutOff = session.Ended.Register(() => linked.CancelAfter(NotifyTimeout));
                while (true)
                {
                    var message = await channel.ReceiveAsync(linked.Token);
                    switch (message)
                    {
                        case null:
                            return;
                        case StreamRequest stream:
                            await OpenStreamAsync(session, stream, linked.Token);
                            break;
                        case Heartbeat:
                            break;
                        default:
                            throw new ControlProtocolException(WebSocketCloseStatus.PolicyViolation, $"unexpected {message.GetType().Name} on a session channel");
                    }
                }
            }
            catch (Exception ex) when (session.Ended.IsCancellationRequested && ex is OperationCanceledException or WebSocketException or IOException)
            {
                // Ended by the host, the server or a revocation: the supporter has been told why.
            }
            finally
            {
                await EndAsync(session, "the supporter ended the session", SessionEndedBy.Supporter);
            }
        }
    }

    /// <summary>Handles what a host sends about its sessions and streams.</summary>
    internal async Task OnHostMessageAsync(HostConnection host, ControlMessage message)
    {
        switch (message)
        {
            case SessionAnswer answer:
                if (!host.Answer(answer))
                {
                    LogStaleAnswer(logger, host.Host.Id, answer.SessionId);
                }

                break;
            case SessionStop stop:
                foreach (var session in _sessions.Values.Where(s => s.Host == host && (stop.SessionId is null || s.Id == stop.SessionId)).ToList())
                {
                    await EndAsync(session, "the host's user ended the session (emergency stop)", SessionEndedBy.Host);
                }

                break;
            case StreamFailed failed:
                relay.Fail(failed.StreamId, host.Host.Id, failed.Reason);
                break;
            default:
                throw new ControlProtocolException(WebSocketCloseStatus.PolicyViolation, $"unexpected {message.GetType().Name} from a host");
        }
    }

    private async Task<(SupportSession? Session, string? Refusal)> OpenSessionAsync(
        User supporter, ConnectRequest request, ControlChannel channel, CancellationToken cancellationToken)
    {
        var permissions = request.Permissions?.Distinct(StringComparer.Ordinal).ToList() ?? [];
        if (permissions.Count is 0 or > 32 || !permissions.All(SessionPermissions.IsKnown))
        {
            return (null, "the request names no permission or one this server does not know");
        }

        var (host, problem) = await ResolveHostAsync(supporter, request.Host ?? string.Empty, cancellationToken);
        if (host is null)
        {
            return (null, problem);
        }

        var connection = presence.Find(host.Id);
        if (connection is null)
        {
            return (null, $"the host '{host.Name}' is offline");
        }

        foreach (var permission in permissions)
        {
            if (SessionPermissions.TryGetTunnel(permission, out var service) && !connection.Hello.Services.Contains(service, StringComparer.Ordinal))
            {
                return (null, $"the host '{host.Name}' does not offer the service '{service}'");
            }
        }

        var group = await groups.FindAsync(host.Group, cancellationToken);
        var consent = group?.UnattendedConsent == UnattendedConsent.Auto ? "auto" : "ask";
        var sessionId = "se-" + SecretToken.New()[..20];
        await channel.SendAsync(new SessionWaiting(sessionId, host.Name), cancellationToken);
        var asked = SessionPermissions.Describe(permissions);
        LogSessionRequested(logger, sessionId, supporter.Name, host.Name, host.Id, asked, consent);

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(TimeSpan.FromSeconds(options.Value.ConsentTimeoutSeconds));
        SessionAnswer? answer;
        try
        {
            answer = await connection.AskAsync(new SessionRequest(sessionId, supporter.Name, supporter.Name, permissions, consent), wait.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"the host '{host.Name}' did not answer within {options.Value.ConsentTimeoutSeconds} s");
        }

        if (answer is null)
        {
            return (null, $"the host '{host.Name}' went offline");
        }

        if (!answer.Accepted)
        {
            return (null, $"the host '{host.Name}' refused the session" + (string.IsNullOrWhiteSpace(answer.Reason) ? string.Empty : ": " + answer.Reason));
        }

        // A host can grant less than asked, never more.
        var granted = permissions.Where(p => answer.Granted?.Contains(p, StringComparer.Ordinal) == true).ToList();
        if (granted.Count == 0)
        {
            return (null, $"the host '{host.Name}' granted none of the requested permissions");
        }

        var session = new SupportSession(sessionId, connection, supporter.Name, granted, channel, time.GetUtcNow());
        _sessions[sessionId] = session;
        var given = SessionPermissions.Describe(granted);
        LogSessionGranted(logger, sessionId, supporter.Name, host.Name, given);
        return (session, null);
    }

    private async Task<(HostRecord? Host, string? Problem)> ResolveHostAsync(User supporter, string wanted, CancellationToken cancellationToken)
    {
        // Unknown hosts and hosts outside the supporter's groups get the same answer: no probing.
        var notYours = $"no host '{wanted}' among the hosts you may reach";
        var mine = (await hosts.ListAsync(cancellationToken))
            .Where(h => !h.Revoked && supporter.Groups.Contains(h.Group, StringComparer.OrdinalIgnoreCase))
            .ToList();
        var byId = mine.FirstOrDefault(h => string.Equals(h.Id, wanted, StringComparison.Ordinal));
        if (byId is not null)
        {
            return (byId, null);
        }

        var byName = mine.Where(h => string.Equals(h.Name, wanted, StringComparison.OrdinalIgnoreCase)).ToList();
        if (byName.Count <= 1)
        {
            return (byName.FirstOrDefault(), byName.Count == 0 ? notYours : null);
        }

        // Several hosts share the name (a re-installed PC): the one online is meant, if only one is.
        var online = byName.Where(h => presence.IsOnline(h.Id)).ToList();
        return online.Count == 1
            ? (online[0], null)
            : (null, $"{byName.Count} hosts are named '{wanted}'; use the host id ({string.Join(", ", byName.Select(h => h.Id))})");
    }

    private async Task OpenStreamAsync(SupportSession session, StreamRequest request, CancellationToken cancellationToken)
    {
        var service = request.Service ?? string.Empty;
        if (session.Ended.IsCancellationRequested)
        {
            return;
        }

        if (string.IsNullOrEmpty(request.RequestId) || request.RequestId.Length > 64)
        {
            throw new ControlProtocolException(WebSocketCloseStatus.PolicyViolation, "a stream request needs a request id of at most 64 characters");
        }

        if (!SessionPermissions.IsValidServiceName(service) || !session.Granted.Contains(SessionPermissions.Tunnel(service), StringComparer.Ordinal))
        {
            await session.SupporterChannel.SendAsync(new StreamRefused(request.RequestId, $"the session was not granted the service '{service}'"), cancellationToken);
            return;
        }

        var (stream, hostTicket, supporterTicket) = relay.Create(session.Id, service, session.Host.Host.Id, session.Supporter, time.GetUtcNow(), session.Ended);
        // Sends on the host's channel use the host's own lifetime: cancelling a WebSocket send aborts
        // the channel, and a supporter going away must never cut off the host (and its other sessions).
        await session.Host.Channel.SendAsync(new StreamOpen(session.Id, stream.Id, service, hostTicket), session.Host.Closed);
        await session.SupporterChannel.SendAsync(new StreamReady(request.RequestId, stream.Id, supporterTicket), cancellationToken);
    }

    /// <summary>
    /// Ends a session once: tells the other side(s) why, then closes every stream of it. A second
    /// caller returns when the first has finished, so nobody disposes a session still being ended.
    /// </summary>
    public async Task EndAsync(SupportSession session, string reason, SessionEndedBy by)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (!session.TryBeginEnd(reason))
        {
            await session.EndCompleted;
            return;
        }

        _sessions.TryRemove(session.Id, out _);
        try
        {
            using var notify = new CancellationTokenSource(NotifyTimeout);
            if (by != SessionEndedBy.Supporter)
            {
                await TrySendAsync(session.SupporterChannel, new SessionEnded(session.Id, reason), notify.Token);
                await session.SupporterChannel.CloseAsync(WebSocketCloseStatus.NormalClosure, "session ended", notify.Token);
            }

            if (by is not (SessionEndedBy.Host or SessionEndedBy.HostGone))
            {
                await TrySendAsync(session.Host.Channel, new SessionEnded(session.Id, reason), session.Host.Closed);
            }
        }
        finally
        {
            session.Cancel();
        }

        LogSessionEnded(logger, session.Id, session.Supporter, session.Host.Host.Name, reason);
    }

    private static async Task TrySendAsync(ControlChannel channel, ControlMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await channel.SendAsync(message, cancellationToken);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The channel is already gone; the session ends anyway.
        }
    }

    [LoggerMessage(EventId = 3100, Level = LogLevel.Information, Message = "Session {SessionId}: {Supporter} asks for host {HostName} ({HostId}) with {Permissions}; consent {Consent}")]
    private static partial void LogSessionRequested(ILogger logger, string sessionId, string supporter, string hostName, string hostId, string permissions, string consent);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Session {SessionId}: host {HostName} granted {Supporter} {Permissions}")]
    private static partial void LogSessionGranted(ILogger logger, string sessionId, string supporter, string hostName, string permissions);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Information, Message = "Session request of {Supporter} for {Host} refused: {Reason}")]
    private static partial void LogSessionRefused(ILogger logger, string supporter, string host, string reason);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Information, Message = "Session {SessionId} of {Supporter} on {HostName} ended: {Reason}")]
    private static partial void LogSessionEnded(ILogger logger, string sessionId, string supporter, string hostName, string reason);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Warning, Message = "Host {HostId} answered session {SessionId}, which it was not asked about")]
    private static partial void LogStaleAnswer(ILogger logger, string hostId, string sessionId);
}
