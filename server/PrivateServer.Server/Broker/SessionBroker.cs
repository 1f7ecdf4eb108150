using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrivateServer.Protocol.Control;
using PrivateServer.Protocol.Sessions;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.AdHoc;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Hosts;
using PrivateServer.Server.Relay;
using PrivateServer.Server.Settings;

namespace PrivateServer.Server.Broker;

/// <summary>
/// Brings supporters and hosts together (DESIGN.md, Session lifecycle): checks the supporter's
/// right to the host — an enrolled one, the customer who joined with the supporter's code, or a
/// customer taken from the queue — asks the host for consent (a customer always, with the support
/// terms), records the decision, hands out stream tickets only for granted services, and ends sessions — on request of either side, when the host goes away, or when it
/// is revoked — closing every stream at once.
/// </summary>
public sealed partial class SessionBroker(
    HostPresence presence,
    RelayRendezvous relay,
    IHostStore hosts,
    IGroupStore groups,
    SessionCodes codes,
    AdHocDesk desk,
    AuditTrail audit,
    IOptions<BrokerOptions> options,
    SettingsService settings,
    TimeProvider time,
    ILogger<SessionBroker> logger,
    Mail.SessionProtocolMail? protocols = null,
    Scripts.ScriptDesk? scriptDesk = null) : Auth.ILiveSessions
{
    private static readonly TimeSpan FirstMessageTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan NotifyTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan ArrivalGrace = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, SupportSession> _sessions = new(StringComparer.Ordinal);

    /// <summary>
    /// Sessions that ended in the last minutes: a host's report of what happened in one (a file moved just before
    /// the supporter hung up) may arrive after the end and still belongs in its protocol.
    /// </summary>
    private readonly ConcurrentDictionary<string, (SupportSession Session, DateTimeOffset EndedAt)> _recentlyEnded = new(StringComparer.Ordinal);

    private static readonly TimeSpan LateReportWindow = TimeSpan.FromMinutes(2);

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

        if (request.Session is not null)
        {
            await RunChatChannelAsync(supporter, request, channel, cancellationToken);
            return;
        }

        var (session, refusal) = await OpenSessionAsync(supporter, request, channel, cancellationToken);
        if (session is null)
        {
            // The digits of a code stay out of the log.
            var wanted = request.Code is not null ? "a session code" : request.Request is not null ? "request " + Clip(request.Request) : request.Host ?? string.Empty;
            await RefuseAsync(channel, supporter, wanted, refusal!, cancellationToken);
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
                        case RightsRequest rights:
                            // The host's user may take a while to answer: streams and heartbeats go on meanwhile.
                            _ = AskForRightsAsync(session, rights, linked.Token);
                            break;
                        case Heartbeat:
                            break;
                        case ChatMessage chat:
                            await ChatFromSupporterAsync(session, chat, channel);
                            break;
                        case ScriptRunRequest script:
                            // The host's user may take a while to answer and the script a while to run.
                            _ = RunScriptAsync(session, script, linked.Token);
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

    /// <summary>Ends every live session of a supporter (signed out everywhere: password changed, account disabled).</summary>
    public async Task<int> EndForSupporterAsync(string supporter, string reason, CancellationToken cancellationToken)
    {
        var theirs = _sessions.Values.Where(s => string.Equals(s.Supporter, supporter, StringComparison.Ordinal)).ToList();
        foreach (var session in theirs)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await EndAsync(session, reason, SessionEndedBy.Server);
        }

        return theirs.Count;
    }

    /// <summary>Handles what a host sends about its sessions and streams.</summary>
    internal async Task OnHostMessageAsync(HostConnection host, ControlMessage message)
    {
        switch (message)
        {
            case SessionAnswer answer:
                if (!host.Answer(answer.SessionId ?? string.Empty, answer))
                {
                    LogStaleAnswer(logger, host.Host.Id, answer.SessionId ?? string.Empty);
                }

                break;
            case SessionRightsAnswer rights:
                if (!host.Answer(rights.AskId ?? string.Empty, rights))
                {
                    LogStaleAnswer(logger, host.Host.Id, rights.AskId ?? string.Empty);
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
            case FileTransferred file:
                await RecordFileAsync(host, file);
                break;
            case ChatMessage chat:
                await ChatFromHostAsync(host, chat);
                break;
            case ScriptResult result:
                if (!host.Answer(result.RunId ?? string.Empty, result))
                {
                    LogStaleAnswer(logger, host.Host.Id, result.RunId ?? string.Empty);
                }

                break;
            default:
                throw new ControlProtocolException(WebSocketCloseStatus.PolicyViolation, $"unexpected {message.GetType().Name} from a host");
        }
    }

    /// <summary>
    /// A further channel of the supporter into a running session of theirs, for chat only: what the host's user writes
    /// arrives here too, what is typed here goes to the host (and to the supporter's other channels). Leaving it leaves
    /// the session running; the session's end closes it.
    /// </summary>
    private async Task RunChatChannelAsync(User supporter, ConnectRequest request, ControlChannel channel, CancellationToken cancellationToken)
    {
        var permissions = request.Permissions ?? [];
        if (!_sessions.TryGetValue(request.Session!, out var session) || !string.Equals(session.Supporter, supporter.Name, StringComparison.Ordinal)
            || permissions.Count != 1 || permissions[0] != SessionPermissions.Chat)
        {
            // Another supporter's session reads the same as none: nothing about it is told.
            await RefuseAsync(channel, supporter, "session " + Clip(request.Session!), "no running session of yours with that id to chat in", cancellationToken);
            return;
        }

        if (!session.Granted.Contains(SessionPermissions.Chat, StringComparer.Ordinal))
        {
            await RefuseAsync(channel, supporter, "session " + session.Id, "chat was not granted in that session", cancellationToken);
            return;
        }

        session.AttachChat(channel);
        try
        {
            await channel.SendAsync(new SessionGranted(session.Id, session.Host.Host.Id, session.Host.Host.Name, session.Granted), cancellationToken);
            LogChatAttached(logger, session.Id, supporter.Name);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var cutOff = session.Ended.Register(() => linked.CancelAfter(NotifyTimeout));
            while (true)
            {
                switch (await channel.ReceiveAsync(linked.Token))
                {
                    case null:
                        return;
                    case Heartbeat:
                        break;
                    case ChatMessage chat:
                        await ChatFromSupporterAsync(session, chat, channel);
                        break;
                    case var other:
                        throw new ControlProtocolException(WebSocketCloseStatus.PolicyViolation, $"unexpected {other.GetType().Name} on a chat channel");
                }
            }
        }
        catch (Exception ex) when (session.Ended.IsCancellationRequested && ex is OperationCanceledException or WebSocketException or IOException)
        {
            // The session ended: the channel has been told why.
        }
        finally
        {
            session.DetachChat(channel);
        }
    }

    private async Task RefuseAsync(ControlChannel channel, User supporter, string wanted, string refusal, CancellationToken cancellationToken)
    {
        LogSessionRefused(logger, supporter.Name, wanted, refusal);
        await channel.SendAsync(new SessionRefused(refusal), cancellationToken);
        await channel.CloseAsync(WebSocketCloseStatus.NormalClosure, "refused", cancellationToken, awaitPeer: true);
    }

    /// <summary>A supporter's chat line: into the session's protocol, then to the host and the supporter's other channels.</summary>
    private async Task ChatFromSupporterAsync(SupportSession session, ChatMessage chat, ControlChannel from)
    {
        if (!session.Granted.Contains(SessionPermissions.Chat, StringComparer.Ordinal))
        {
            throw new ControlProtocolException(WebSocketCloseStatus.PolicyViolation, "chat was not granted in this session");
        }

        if (ChatMessage.Clean(chat.Text) is not { } text)
        {
            return;
        }

        var at = time.GetUtcNow();
        await audit.RecordAsync(
            session.Supporter, "chat.message", session.Host.Host.Name, session.Id,
            details: AuditTrail.Details(("from", session.Supporter), ("text", text)), cancellationToken: CancellationToken.None);
        var line = new ChatMessage(session.Id, session.Supporter, text, at);
        await session.Host.Channel.TrySendAsync(line, session.Host.Closed);
        using var notify = new CancellationTokenSource(NotifyTimeout);
        foreach (var other in session.SupporterChannels.Where(c => c != from))
        {
            await other.TrySendAsync(line, notify.Token);
        }
    }

    /// <summary>
    /// A supporter runs a library script on the session's host: only with <c>scripts</c> granted, only a
    /// script of one of the supporter's groups; the host shows it to its user and asks (unless the group's
    /// policy runs it unattended); request and result (exit code, output) go into the session's protocol.
    /// </summary>
    private async Task RunScriptAsync(SupportSession session, ScriptRunRequest request, CancellationToken cancellationToken)
    {
        var requestId = request.RequestId is { Length: > 0 and <= 64 } id ? id : "script";
        var name = request.Script ?? string.Empty;
        try
        {
            var (script, refusal) = !session.Granted.Contains(SessionPermissions.Scripts, StringComparer.Ordinal)
                ? (null, "the session was not granted scripts")
                : scriptDesk is null ? (null, "this server runs no scripts")
                : await scriptDesk.FindForAsync(session.Supporter, name, cancellationToken);
            if (script is null)
            {
                await session.SupporterChannel.SendAsync(new ScriptFinished(requestId, name, false, null, null, null, false, false, refusal), cancellationToken);
                return;
            }

            var consent = session.Host.IsAdHoc ? "ask" : await scriptDesk!.ConsentAsync(session.Host.Host.Group, cancellationToken);
            await audit.RecordAsync(
                session.Supporter, "script.requested", session.Host.Host.Name, session.Id,
                details: AuditTrail.Details(("script", script.Name), ("shell", script.Shell), ("sha256", script.Sha256), ("consent", consent)), cancellationToken: CancellationToken.None);
            var runId = "sr-" + SecretToken.New()[..16];
            var timeout = (int)script.Timeout.TotalSeconds;
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, session.Ended);
            wait.CancelAfter(script.Timeout + TimeSpan.FromSeconds(options.Value.ConsentTimeoutSeconds + 30));
            ScriptResult? result;
            try
            {
                result = await session.Host.AskAsync(new ScriptRun(session.Id, runId, script.Name, script.Shell, script.Body, consent, timeout), wait.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                result = null;
            }

            result ??= new ScriptResult(session.Id, runId, false, null, null, null, false, false, "the host did not answer");
            await audit.RecordAsync(
                session.Host.Host.Name, result.Ran ? "script.finished" : "script.refused", session.Host.Host.Name, session.Id,
                details: AuditTrail.Details(
                    ("script", script.Name), ("exit-code", result.ExitCode?.ToString(CultureInfo.InvariantCulture)), ("timed-out", result.TimedOut ? "yes" : null),
                    ("stdout", Cap(result.Stdout)), ("stderr", Cap(result.Stderr)), ("truncated", result.Truncated ? "yes" : null), ("reason", Cap(result.Refusal))),
                cancellationToken: CancellationToken.None);
            await session.SupporterChannel.SendAsync(
                new ScriptFinished(requestId, script.Name, result.Ran, result.ExitCode, Cap(result.Stdout), Cap(result.Stderr), result.TimedOut, result.Truncated, Cap(result.Refusal)),
                cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            // The session ended meanwhile; the supporter has been told.
        }

        static string? Cap(string? text) => text is { Length: > ScriptResult.MaximumOutputLength } ? text[..ScriptResult.MaximumOutputLength] : text;
    }

    /// <summary>A chat line from the host's user: into the session's protocol, then to the supporter.</summary>
    private async Task ChatFromHostAsync(HostConnection host, ChatMessage chat)
    {
        if (!_sessions.TryGetValue(chat.SessionId ?? string.Empty, out var session) || session.Host != host
            || !session.Granted.Contains(SessionPermissions.Chat, StringComparer.Ordinal))
        {
            // The session may have ended while the user typed: nothing to deliver it to.
            return;
        }

        if (ChatMessage.Clean(chat.Text) is not { } text)
        {
            return;
        }

        var at = time.GetUtcNow();
        await audit.RecordAsync(
            host.Host.Name, "chat.message", host.Host.Name, session.Id,
            details: AuditTrail.Details(("from", host.Host.Name), ("text", text)), cancellationToken: CancellationToken.None);
        using var notify = new CancellationTokenSource(NotifyTimeout);
        var line = new ChatMessage(session.Id, host.Host.Name, text, at);
        foreach (var channel in session.SupporterChannels)
        {
            await channel.TrySendAsync(line, notify.Token);
        }
    }

    /// <summary>A host reports a file moved in one of its sessions: into the audit trail (and so the session protocol), in the supporter's name.</summary>
    private async Task RecordFileAsync(HostConnection host, FileTransferred file)
    {
        if (file.Direction is not (FileTransferred.ToHost or FileTransferred.FromHost)
            || file.Path is not { Length: > 0 and <= 4096 } || file.Size < 0
            || file.Sha256 is not { Length: 64 } || !file.Sha256.All(Uri.IsHexDigit))
        {
            throw new ControlProtocolException(WebSocketCloseStatus.PolicyViolation, "a malformed file report");
        }

        if (SessionOf(host, file.SessionId) is not { } session || !session.Granted.Contains(SessionPermissions.Files, StringComparer.Ordinal))
        {
            LogStaleAnswer(logger, host.Host.Id, file.SessionId ?? string.Empty);
            return;
        }

        await audit.RecordAsync(
            session.Supporter, "file.transferred", host.Host.Name, session.Id,
            details: AuditTrail.Details(("direction", file.Direction), ("path", file.Path), ("size", file.Size.ToString(CultureInfo.InvariantCulture)), ("sha256", file.Sha256)),
            cancellationToken: CancellationToken.None);
        LogFileTransferred(logger, session.Id, file.Direction, file.Path, file.Size);
    }

    /// <summary>A session of <paramref name="host"/>, running or ended in the last minutes.</summary>
    private SupportSession? SessionOf(HostConnection host, string? sessionId)
    {
        var id = sessionId ?? string.Empty;
        var session = _sessions.TryGetValue(id, out var live) ? live
            : _recentlyEnded.TryGetValue(id, out var ended) && time.GetUtcNow() - ended.EndedAt <= LateReportWindow ? ended.Session
            : null;
        return session?.Host == host ? session : null;
    }

    private async Task<(SupportSession? Session, string? Refusal)> OpenSessionAsync(
        User supporter, ConnectRequest request, ControlChannel channel, CancellationToken cancellationToken)
    {
        var permissions = request.Permissions?.Distinct(StringComparer.Ordinal).ToList() ?? [];
        if (permissions.Count is 0 or > 32 || !permissions.All(SessionPermissions.IsKnown))
        {
            return (null, "the request names no permission or one this server does not know");
        }

        var sessionId = "se-" + SecretToken.New()[..20];
        var (connection, customer, problem) = request switch
        {
            { Code: { } code } => await AwaitCustomerAsync(supporter, code, channel, cancellationToken),
            { Request: { } waiting } => TakeRequest(supporter, waiting),
            _ => await FindEnrolledHostAsync(supporter, request.Host ?? string.Empty, cancellationToken),
        };
        if (connection is null)
        {
            return (null, problem);
        }

        (SupportSession? Session, string? Refusal, ConsentRecord? Answer) outcome = (null, "the session was not opened", null);
        try
        {
            permissions.AddRange(await AllowedOptionalAsync(connection, request.Optional, permissions, cancellationToken));
            outcome = await AskHostAsync(supporter, sessionId, permissions, connection, customer, channel, cancellationToken);
            return (outcome.Session, outcome.Refusal);
        }
        finally
        {
            if (outcome.Session is null)
            {
                // The host's answer (if it gave one), the session's end and the event saying so: one transaction.
                var refused = new AtomicChange();
                refused.SessionEnds.Add(new SessionEnd(sessionId, time.GetUtcNow(), "refused", outcome.Refusal!));
                refused.NewConsents.AddRange(outcome.Answer is { } answer ? [answer] : []);
                refused.Audit.Add(audit.Entry(
                    supporter.Name, "session.refused", connection.Host.Name, sessionId, details: AuditTrail.Details(("host-id", connection.Host.Id), ("reason", outcome.Refusal!))));
                await audit.WriteAsync(refused, CancellationToken.None);
            }

            // A customer gets one chance: whatever stopped the session, its connection ends with it.
            if (customer is not null && outcome.Session is null)
            {
                await LetCustomerGoAsync(connection, cancellationToken.IsCancellationRequested ? "the supporter gave up" : outcome.Refusal!);
            }
        }
    }

    /// <summary>Asks the host; a refusal comes with the host's answer to store with it (null when the host gave none).</summary>
    private async Task<(SupportSession? Session, string? Refusal, ConsentRecord? Answer)> AskHostAsync(
        User supporter, string sessionId, List<string> permissions, HostConnection connection, AdHocCustomer? customer,
        ControlChannel channel, CancellationToken cancellationToken)
    {
        var host = connection.Host;
        var (consent, record, maxFileSize, problem) = await CheckPolicyAsync(connection, permissions, cancellationToken);
        if (problem is not null)
        {
            return (null, problem, null);
        }

        var terms = customer is null ? null : SupportTerms(await settings.CurrentAsync(cancellationToken));
        var via = customer is null ? "enrolled" : customer.Via == AdHocVia.Code ? "code" : "request";
        var requested = new AtomicChange();
        requested.NewSessions.Add(new SessionRecord(sessionId, supporter.Name, host.Id, host.Name, via, [.. permissions], time.GetUtcNow()));
        requested.Audit.Add(audit.Entry(
            supporter.Name, "session.requested", host.Name, sessionId,
            details: AuditTrail.Details(("host-id", host.Id), ("via", via), ("permissions", string.Join(' ', permissions)), ("consent", consent))));
        await audit.WriteAsync(requested, CancellationToken.None);
        await channel.SendAsync(new SessionWaiting(sessionId, host.Name), cancellationToken);
        var asked = SessionPermissions.Describe(permissions);
        LogSessionRequested(logger, sessionId, supporter.Name, host.Name, host.Id, asked, consent);

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(TimeSpan.FromSeconds(options.Value.ConsentTimeoutSeconds));
        SessionAnswer? answer;
        try
        {
            answer = await connection.AskAsync(new SessionRequest(sessionId, supporter.Name, supporter.Name, permissions, consent, terms, maxFileSize), wait.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"the host '{host.Name}' did not answer within {options.Value.ConsentTimeoutSeconds} s", null);
        }

        if (answer is null)
        {
            return (null, $"the host '{host.Name}' went offline", null);
        }

        // A host can grant less than asked, never more; a customer must have been shown the terms.
        var granted = answer.Accepted ? permissions.Where(p => answer.Granted?.Contains(p, StringComparer.Ordinal) == true).ToList() : [];
        var accepted = terms is { Count: > 0 } ? terms.FirstOrDefault(t => Protocol.Sessions.SupportTerms.Sha256(t.Text) == answer.TermsSha256) : null;
        string? refusal = null;
        if (!answer.Accepted)
        {
            refusal = $"the host '{host.Name}' refused the session" + (string.IsNullOrWhiteSpace(answer.Reason) ? string.Empty : ": " + answer.Reason);
        }
        else if (granted.Count == 0)
        {
            refusal = $"the host '{host.Name}' granted none of the requested permissions";
        }
        else if (terms is { Count: > 0 } && accepted is null)
        {
            refusal = $"the customer '{host.Name}' did not confirm the support terms they were shown";
        }

        var decision = new ConsentRecord(
            sessionId, supporter.Name, host.Id, host.Name, via, consent == "auto" ? ConsentKind.Policy : ConsentKind.Asked, refusal is null,
            refusal is null ? granted : [], refusal is null ? answer.TermsSha256 : null, refusal is null ? accepted?.Language : null,
            customer?.Source, time.GetUtcNow());
        if (refusal is not null)
        {
            return (null, refusal, decision);
        }

        if (accepted is not null)
        {
            LogTermsAccepted(logger, sessionId, host.Name, accepted.Language, answer.TermsSha256!);
        }

        var grant = new AtomicChange();
        grant.NewConsents.Add(decision);
        grant.Audit.Add(audit.Entry(
            host.Name, "session.granted", supporter.Name, sessionId,
            details: AuditTrail.Details(
                ("host-id", host.Id), ("permissions", string.Join(' ', granted)), ("consent", consent == "auto" ? "policy" : "asked"),
                ("terms-sha256", accepted is null ? null : answer.TermsSha256), ("terms-language", accepted?.Language))));
        await audit.WriteAsync(grant, CancellationToken.None);
        var session = new SupportSession(sessionId, connection, supporter.Name, granted, channel, time.GetUtcNow(), record);
        _sessions[sessionId] = session;
        var given = SessionPermissions.Describe(granted);
        LogSessionGranted(logger, sessionId, supporter.Name, host.Name, given);
        return (session, null, null);
    }

    /// <summary>The optional permissions the host's group allows (all of them for an ad-hoc customer), not asked already.</summary>
    private async Task<List<string>> AllowedOptionalAsync(
        HostConnection connection, IReadOnlyList<string>? optional, IReadOnlyList<string> asked, CancellationToken cancellationToken)
    {
        var wanted = (optional ?? []).Take(8).Where(p => SessionPermissions.IsKnown(p) && !asked.Contains(p, StringComparer.Ordinal)).Distinct(StringComparer.Ordinal).ToList();
        if (wanted.Count == 0)
        {
            return wanted;
        }

        var group = connection.IsAdHoc ? null : await groups.FindAsync(connection.Host.Group, cancellationToken);
        var allowed = new List<string>();
        foreach (var permission in wanted)
        {
            var (_, _, _, problem) = await CheckPolicyAsync(connection, [permission], cancellationToken);
            if (problem is null && (group is null || group.Features.Contains(GroupFeatures.For(permission), StringComparer.Ordinal)))
            {
                allowed.Add(permission);
            }
        }

        return allowed;
    }

    /// <summary>
    /// Whether the host offers what is asked and its group's policy allows it (an enrolled host: the
    /// features it allows, and whether it is asked; an ad-hoc customer is always asked). Returns the
    /// consent mode ("ask" or "auto"), or what stands in the way.
    /// </summary>
    private async Task<(string Consent, bool Record, long MaxFileSize, string? Problem)> CheckPolicyAsync(
        HostConnection connection, IReadOnlyList<string> permissions, CancellationToken cancellationToken)
    {
        var host = connection.Host;
        foreach (var permission in permissions)
        {
            if (SessionPermissions.TryGetTunnel(permission, out var service) && !connection.Hello.Services.Contains(service, StringComparer.Ordinal))
            {
                return ("ask", false, 0, $"the host '{host.Name}' does not offer the service '{service}'");
            }

            if (permission == SessionPermissions.Files && !connection.Hello.Services.Contains(SessionPermissions.FilesService, StringComparer.Ordinal))
            {
                return ("ask", false, 0, $"the host '{host.Name}' shares no folder for file transfer (its module runs without --files)");
            }

            if (permission == SessionPermissions.SystemInfo && !connection.Hello.Services.Contains(SessionPermissions.SystemInfoService, StringComparer.Ordinal))
            {
                return ("ask", false, 0, $"the host '{host.Name}' runs a module without system information");
            }
        }

        var group = connection.IsAdHoc ? null : await groups.FindAsync(host.Group, cancellationToken);
        var forbidden = group is null ? null : permissions.FirstOrDefault(p => !group.Features.Contains(GroupFeatures.For(p), StringComparer.Ordinal));
        if (forbidden is not null)
        {
            return ("ask", false, 0, $"the policy of group '{group!.Name}' does not allow {SessionPermissions.Describe([forbidden])}");
        }

        return (group?.UnattendedConsent == UnattendedConsent.Auto ? "auto" : "ask", group?.Recording == true, group?.MaxFileSize ?? GroupFeatures.DefaultMaxFileSize, null);
    }

    /// <summary>
    /// A running session's supporter asks for more rights (control after viewing): checked like a new
    /// session, asked of the host (one request at a time), recorded, and answered on the supporter's channel.
    /// </summary>
    private async Task AskForRightsAsync(SupportSession session, RightsRequest request, CancellationToken cancellationToken)
    {
        var requestId = request.RequestId ?? string.Empty;
        if (requestId.Length is 0 or > 64)
        {
            requestId = "rights";
        }

        var asking = false;
        try
        {
            var wanted = request.Permissions?.Distinct(StringComparer.Ordinal).ToList() ?? [];
            var more = wanted.Where(p => !session.Granted.Contains(p, StringComparer.Ordinal)).ToList();
            var refusal = wanted.Count is 0 or > 32 || !wanted.All(SessionPermissions.IsKnown)
                ? "the request names no permission or one this server does not know"
                : null;
            if (refusal is null && more.Count == 0)
            {
                await session.SupporterChannel.SendAsync(new RightsGranted(requestId, session.Granted), cancellationToken);
                return;
            }

            var consent = "ask";
            if (refusal is null)
            {
                (consent, _, _, refusal) = await CheckPolicyAsync(session.Host, more, cancellationToken);
            }

            if (refusal is null && !(asking = session.TryBeginAsking()))
            {
                refusal = "another request for more rights is waiting for the host's answer";
            }

            var host = session.Host.Host;
            var askId = "ra-" + SecretToken.New()[..16];
            var asked = SessionPermissions.Describe(more);
            SessionRightsAnswer? answer = null;
            if (refusal is null)
            {
                LogRightsRequested(logger, session.Id, session.Supporter, host.Name, asked, consent);
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, session.Ended);
                wait.CancelAfter(TimeSpan.FromSeconds(options.Value.ConsentTimeoutSeconds));
                try
                {
                    answer = await session.Host.AskAsync(new SessionRightsRequest(session.Id, askId, session.Supporter, session.Supporter, more, consent), wait.Token);
                    refusal = answer is null ? $"the host '{host.Name}' went offline" : null;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && !session.Ended.IsCancellationRequested)
                {
                    refusal = $"the host '{host.Name}' did not answer within {options.Value.ConsentTimeoutSeconds} s";
                }
            }

            // A host can grant less than asked, never more.
            var granted = answer is { Accepted: true } ? more.Where(p => answer.Granted?.Contains(p, StringComparer.Ordinal) == true).ToList() : [];
            if (refusal is null && granted.Count == 0)
            {
                refusal = $"the host '{host.Name}' did not grant {asked}" + (string.IsNullOrWhiteSpace(answer?.Reason) ? string.Empty : ": " + answer.Reason);
            }

            if (refusal is not null)
            {
                LogRightsRefused(logger, session.Id, session.Supporter, host.Name, refusal);
                await audit.RecordAsync(
                    session.Supporter, "session.rights-refused", host.Name, session.Id,
                    details: AuditTrail.Details(("permissions", string.Join(' ', more)), ("reason", refusal)), cancellationToken: CancellationToken.None);
                await session.SupporterChannel.SendAsync(new RightsRefused(requestId, refusal), cancellationToken);
                return;
            }

            var all = session.Grant(granted);
            var byPolicy = consent == "auto" && !session.Host.IsAdHoc;
            var later = new AtomicChange();
            later.SessionGrants.Add(new SessionGrantAdded(session.Id, new SessionGrant(granted, time.GetUtcNow(), byPolicy ? ConsentKind.Policy : ConsentKind.Asked)));
            later.Audit.Add(audit.Entry(
                host.Name, "session.rights-granted", session.Supporter, session.Id,
                details: AuditTrail.Details(("permissions", string.Join(' ', granted)), ("consent", byPolicy ? "policy" : "asked"))));
            await audit.WriteAsync(later, CancellationToken.None);
            var given = SessionPermissions.Describe(granted);
            LogRightsGranted(logger, session.Id, host.Name, session.Supporter, given);
            await session.SupporterChannel.SendAsync(new RightsGranted(requestId, all), cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException or AtomicConflictException)
        {
            // The session or a channel ended meanwhile (also while the grant was being written): whoever ended it has said why.
        }
        finally
        {
            if (asking)
            {
                session.EndAsking();
            }
        }
    }

    private static List<SupportTerms> SupportTerms(EffectiveSettings settings) =>
        settings.SupportTerms
            .OrderBy(t => t.Key, StringComparer.Ordinal)
            .Select(t => new SupportTerms(t.Key, t.Value))
            .ToList();

    private async Task<(HostConnection? Connection, AdHocCustomer? Customer, string? Problem)> FindEnrolledHostAsync(
        User supporter, string wanted, CancellationToken cancellationToken)
    {
        var (host, problem) = await ResolveHostAsync(supporter, wanted, cancellationToken);
        if (host is null)
        {
            return (null, null, problem);
        }

        var connection = presence.Find(host.Id);
        return connection is null ? (null, null, $"the host '{host.Name}' is offline") : (connection, null, null);
    }

    /// <summary>The customer who joins with the supporter's own code — waited for until the code expires.</summary>
    private async Task<(HostConnection? Connection, AdHocCustomer? Customer, string? Problem)> AwaitCustomerAsync(
        User supporter, string text, ControlChannel channel, CancellationToken cancellationToken)
    {
        var (code, problem) = await codes.FindOwnAsync(text, supporter, cancellationToken);
        if (code is null)
        {
            return (null, null, problem);
        }

        var shown = SessionCodes.Shown(text);
        if (code.RedeemedAt is null)
        {
            await channel.SendAsync(new AwaitingCustomer(code.ExpiresAt), cancellationToken);
        }

        AdHocCustomer? customer;
        try
        {
            // A redeemed code's customer arrives at the desk a moment after the redemption: give it that moment.
            customer = await desk.WaitForCodeAsync(code.Hash, code.RedeemedAt is null ? code.ExpiresAt - time.GetUtcNow() : ArrivalGrace, cancellationToken);
        }
        catch (InvalidOperationException)
        {
            return (null, null, $"another connect already waits for the code {shown}");
        }

        if (customer is null)
        {
            return (null, null, code.RedeemedAt is null
                ? $"the session code {shown} expired before a customer joined with it; create a new one"
                : $"the customer who joined with the code {shown} has left");
        }

        return customer.TryTake()
            ? (customer.Connection, customer, null)
            : (null, null, $"the customer who joined with the code {shown} is already in a session");
    }

    private (HostConnection? Connection, AdHocCustomer? Customer, string? Problem) TakeRequest(User supporter, string requestId)
    {
        var customer = desk.TryTakeRequest(requestId, supporter);
        return customer is null
            ? (null, null, $"no waiting request '{Clip(requestId)}' for you (taken by someone else, gone, or for another group)")
            : (customer.Connection, customer, null);
    }

    /// <summary>An ad-hoc customer whose session did not come about is told why and let go: nothing can reuse its code.</summary>
    private static async Task LetCustomerGoAsync(HostConnection customer, string reason)
    {
        using var notify = new CancellationTokenSource(NotifyTimeout);
        await customer.Channel.TrySendAsync(new ChannelError("no session: " + reason), notify.Token);
        await customer.Channel.CloseAsync(WebSocketCloseStatus.NormalClosure, "no session", notify.Token);
        customer.CloseSoon("no session: " + reason, NotifyTimeout);
    }

    private static string Clip(string text) => text.Length <= 40 ? text : text[..40];

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
        if (session.Ended.IsCancellationRequested)
        {
            return;
        }

        if (string.IsNullOrEmpty(request.RequestId) || request.RequestId.Length > 64)
        {
            throw new ControlProtocolException(WebSocketCloseStatus.PolicyViolation, "a stream request needs a request id of at most 64 characters");
        }

        var (stream, supporterTicket, refusal) = await CreateStreamAsync(session, request.Service ?? string.Empty, withSupporterTicket: true);
        await session.SupporterChannel.SendAsync(
            stream is null ? new StreamRefused(request.RequestId, refusal!) : new StreamReady(request.RequestId, stream.Id, supporterTicket!),
            cancellationToken);
    }

    /// <summary>
    /// A stream a supporter module asked for on a relay connection (<c>stream SESSION SERVICE</c>), which becomes the
    /// supporter's half: the same checks as a request on the session's channel, without the ticket's round trip.
    /// Null with the reason when the session is not the caller's or not running, or the stream is not allowed.
    /// </summary>
    public async Task<(RelayPair? Stream, string? Refusal)> OpenStreamInBandAsync(string supporter, string sessionId, string service, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(supporter);
        ArgumentNullException.ThrowIfNull(sessionId);
        cancellationToken.ThrowIfCancellationRequested();
        if (!_sessions.TryGetValue(sessionId, out var session) || !string.Equals(session.Supporter, supporter, StringComparison.Ordinal))
        {
            return (null, $"no session {sessionId} of yours is running");
        }

        try
        {
            if (!session.Ended.IsCancellationRequested)
            {
                var (stream, _, refusal) = await CreateStreamAsync(session, service, withSupporterTicket: false);
                return (stream, refusal);
            }
        }
        catch (ObjectDisposedException)
        {
            // It ended between the lookup and now.
        }

        return (null, "the session ended: " + (session.EndReason ?? "ended"));
    }

    /// <summary>
    /// A new stream of <paramref name="session"/> to <paramref name="service"/> if it was granted and no limit is reached:
    /// audited, its host half asked for on the host's channel. A supporter ticket only when the supporter's half comes
    /// later (a ticket on the session's channel); else the caller is that half.
    /// </summary>
    private async Task<(RelayPair? Stream, string? SupporterTicket, string? Refusal)> CreateStreamAsync(SupportSession session, string service, bool withSupporterTicket)
    {
        if (!SessionPermissions.IsValidServiceName(service) || !session.Granted.Contains(SessionPermissions.ForStream(service), StringComparer.Ordinal))
        {
            return (null, null, $"the session was not granted the service '{service}'");
        }

        // No single supporter can tie up the relay: a cap per session and one over all their sessions. Requests come
        // on the session's channel one after the other and on relay connections side by side, so counting and creating
        // is one step.
        RelayPair stream;
        string hostTicket;
        string? supporterTicket;
        lock (session.StreamsLock)
        {
            var (inSession, ofSupporter) = relay.CountOpen(session.Id, session.Supporter);
            var limit = inSession >= options.Value.MaxStreamsPerSession
                ? $"this session has {inSession} streams open, the most allowed (Broker:MaxStreamsPerSession)"
                : ofSupporter >= options.Value.MaxStreamsPerSupporter
                    ? $"you have {ofSupporter} streams open, the most allowed (Broker:MaxStreamsPerSupporter)"
                    : null;
            if (limit is not null)
            {
                LogStreamLimit(logger, session.Id, session.Supporter, limit);
                return (null, null, limit);
            }

            (stream, hostTicket, supporterTicket) = relay.Create(
                session.Id, service, session.Host.Host.Id, session.Supporter, time.GetUtcNow(), session.Ended,
                record: session.Record && service == SessionPermissions.ScreenService, withSupporterTicket);
        }

        try
        {
            // Chained before the stream carries a byte, stored with the other streams of the next few milliseconds: one
            // database commit per stream was most of what the appliance spent on opening it.
            await audit.RecordDeferredAsync(session.Supporter, "stream.opened", session.Host.Host.Name, session.Id, AuditTrail.Details(("service", service)), CancellationToken.None);
        }
        catch
        {
            stream.Fail("the stream could not be written to the audit trail");
            throw;
        }

        // Sends on the host's channel use the host's own lifetime: cancelling a WebSocket send aborts
        // the channel, and a supporter going away must never cut off the host (and its other sessions).
        if (!await session.Host.Channel.TrySendAsync(new StreamOpen(session.Id, stream.Id, service, hostTicket), session.Host.Closed))
        {
            // The host is going away; the session ends with it.
            stream.Fail("the host could not be asked for its half");
            return (null, null, "the host is no longer connected");
        }

        return (stream, supporterTicket, null);
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
        var now = time.GetUtcNow();
        _recentlyEnded[session.Id] = (session, now);
        foreach (var old in _recentlyEnded.Where(e => now - e.Value.EndedAt > LateReportWindow).ToList())
        {
            _recentlyEnded.TryRemove(old.Key, out _);
        }
        try
        {
            using var notify = new CancellationTokenSource(NotifyTimeout);
            if (by != SessionEndedBy.Supporter)
            {
                await session.SupporterChannel.TrySendAsync(new SessionEnded(session.Id, reason), notify.Token);
                await session.SupporterChannel.CloseAsync(WebSocketCloseStatus.NormalClosure, "session ended", notify.Token);
            }

            foreach (var chat in session.ChatChannels)
            {
                await chat.TrySendAsync(new SessionEnded(session.Id, reason), notify.Token);
                await chat.CloseAsync(WebSocketCloseStatus.NormalClosure, "session ended", notify.Token);
            }

            if (by is not (SessionEndedBy.Host or SessionEndedBy.HostGone))
            {
                await session.Host.Channel.TrySendAsync(new SessionEnded(session.Id, reason), session.Host.Closed);
            }

            if (session.Host.IsAdHoc)
            {
                // An ad-hoc customer had its one session: its channel ends, nothing reconnects with its code.
                await session.Host.Channel.CloseAsync(WebSocketCloseStatus.NormalClosure, "session ended", notify.Token);
                session.Host.CloseSoon("the session ended", NotifyTimeout);
            }
        }
        finally
        {
            session.Cancel();
        }

        // The end, the event recording it and the protocol mails quoting that event: one transaction.
        var end = new SessionEnd(session.Id, time.GetUtcNow(), by.ToString().ToLowerInvariant(), reason);
        var ended = audit.Entry(
            by is SessionEndedBy.Host or SessionEndedBy.HostGone ? session.Host.Host.Name : by == SessionEndedBy.Supporter ? session.Supporter : "system",
            "session.ended", session.Host.Host.Name, session.Id, details: AuditTrail.Details(("by", end.By), ("reason", reason)));
        var protocol = protocols is null ? null : await protocols.SessionEndsAsync(end, CancellationToken.None);
        await SessionEnding.WriteAsync(audit, end, ended, protocol, CancellationToken.None);
        LogSessionEnded(logger, session.Id, session.Supporter, session.Host.Host.Name, reason);
    }

    [LoggerMessage(EventId = 3100, Level = LogLevel.Information, Message = "Session {SessionId}: {Supporter} asks for host {HostName} ({HostId}) with {Permissions}; consent {Consent}")]
    private static partial void LogSessionRequested(ILogger logger, string sessionId, string supporter, string hostName, string hostId, string permissions, string consent);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Session {SessionId}: host {HostName} granted {Supporter} {Permissions}")]
    private static partial void LogSessionGranted(ILogger logger, string sessionId, string supporter, string hostName, string permissions);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Information, Message = "Session request of {Supporter} for {Host} refused: {Reason}")]
    private static partial void LogSessionRefused(ILogger logger, string supporter, string host, string reason);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Information, Message = "Session {SessionId} of {Supporter} on {HostName} ended: {Reason}")]
    private static partial void LogSessionEnded(ILogger logger, string sessionId, string supporter, string hostName, string reason);

    [LoggerMessage(EventId = 3105, Level = LogLevel.Information, Message = "Session {SessionId}: customer {HostName} accepted the support terms ({Language}, SHA-256 {TermsSha256})")]
    private static partial void LogTermsAccepted(ILogger logger, string sessionId, string hostName, string language, string termsSha256);

    [LoggerMessage(EventId = 3106, Level = LogLevel.Information, Message = "Session {SessionId}: {Supporter} asks host {HostName} for more rights: {Permissions}; consent {Consent}")]
    private static partial void LogRightsRequested(ILogger logger, string sessionId, string supporter, string hostName, string permissions, string consent);

    [LoggerMessage(EventId = 3107, Level = LogLevel.Information, Message = "Session {SessionId}: host {HostName} granted {Supporter} further {Permissions}")]
    private static partial void LogRightsGranted(ILogger logger, string sessionId, string hostName, string supporter, string permissions);

    [LoggerMessage(EventId = 3108, Level = LogLevel.Information, Message = "Session {SessionId}: more rights for {Supporter} on {HostName} refused: {Reason}")]
    private static partial void LogRightsRefused(ILogger logger, string sessionId, string supporter, string hostName, string reason);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Warning, Message = "Host {HostId} answered session {SessionId}, which it was not asked about")]
    private static partial void LogStaleAnswer(ILogger logger, string hostId, string sessionId);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Warning, Message = "Session {SessionId}: a stream for {Supporter} refused: {Limit}")]
    private static partial void LogStreamLimit(ILogger logger, string sessionId, string supporter, string limit);

    [LoggerMessage(EventId = 3110, Level = LogLevel.Information, Message = "Session {SessionId}: {Supporter} opened a chat channel into it")]
    private static partial void LogChatAttached(ILogger logger, string sessionId, string supporter);

    [LoggerMessage(EventId = 3109, Level = LogLevel.Information, Message = "Session {SessionId}: file {Direction} {Path} ({Size} bytes)")]
    private static partial void LogFileTransferred(ILogger logger, string sessionId, string direction, string path, long size);
}
