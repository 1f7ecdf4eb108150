using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Net.WebSockets;
using PrivateServer.HostModule.Resources;
using PrivateServer.HostModule.Rfb;
using PrivateServer.Protocol.Control;
using PrivateServer.Protocol.Files;
using PrivateServer.Protocol.Relay;
using PrivateServer.Protocol.Sessions;
using PrivateServer.Protocol.Transport;

namespace PrivateServer.HostModule.Agent;

/// <summary>
/// The sessions of one host on one control channel — the part an installed host and an ad-hoc
/// customer share: heartbeats, consent (with the support terms when the server sends them), the
/// host's halves of granted streams, RFB input filtered without <c>control</c>, the session banner
/// and the emergency stop. Consent lives here, not on the server: a stream for a session this host
/// did not grant is refused.
/// </summary>
internal sealed class HostSessions : IDisposable
{
    private static readonly TimeSpan ConsentTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan OneSessionCloseTimeout = TimeSpan.FromSeconds(3);

    private readonly IReadOnlyDictionary<string, ServiceTarget> _services;
    private readonly FileRoot? _files;
    private readonly HostTerminal _terminal;
    private readonly bool _alwaysAsk;
    private readonly ConcurrentDictionary<string, LocalSession> _sessions = new(StringComparer.Ordinal);
    private ControlChannel? _channel;
    private RelayOpener? _relays;
    private CancellationTokenSource? _oneSessionOver;

    /// <param name="services">What this host offers.</param>
    /// <param name="input">The user's answers and the word 'stop' (<see cref="HostTerminal"/>).</param>
    /// <param name="output">What the user reads.</param>
    /// <param name="alwaysAsk">Ask even when the group's policy allows without asking (ad-hoc customers).</param>
    /// <param name="files">The folder shared for file transfer, or null.</param>
    public HostSessions(IReadOnlyDictionary<string, ServiceTarget> services, TextReader input, TextWriter output, bool alwaysAsk, FileRoot? files = null)
    {
        _services = services;
        _files = files;
        _terminal = new HostTerminal(input, output, EmergencyStop, ChatAsync);
        _alwaysAsk = alwaysAsk;
    }

    /// <summary>The user's terminal: the agents run it and tell the user about the connection through it.</summary>
    public HostTerminal Terminal => _terminal;

    /// <summary>A session this host granted; <see cref="Granted"/> may grow when the user allows more while it runs.</summary>
    private sealed class LocalSession(string id, string supporter, IReadOnlySet<string> granted, long maxFileSize)
    {
        /// <summary>The largest file this session may move (the group's policy, from the server).</summary>
        public long MaxFileSize { get; } = maxFileSize;

        private IReadOnlySet<string> _granted = granted;
        private int _asking;

        public string Id { get; } = id;

        public string Supporter { get; } = supporter;

        public CancellationTokenSource Ended { get; } = new();

        /// <summary>What the user has granted so far; a stream takes the rights in force when it opens.</summary>
        public IReadOnlySet<string> Granted => Volatile.Read(ref _granted);

        public void Grant(IEnumerable<string> more) => Volatile.Write(ref _granted, Granted.Union(more).ToHashSet(StringComparer.Ordinal));

        /// <summary>One question about more rights at a time per session.</summary>
        public bool TryBeginAsking() => Interlocked.Exchange(ref _asking, 1) == 0;

        public void EndAsking() => Volatile.Write(ref _asking, 0);
    }

    /// <summary>How the one session of an ad-hoc customer went (<see cref="ServeAsync"/> with <c>oneSession</c>).</summary>
    public OneSessionOutcome Outcome { get; private set; }

    /// <summary>
    /// Serves the channel until it ends (returns why), the host stops (throws), or — with
    /// <paramref name="oneSession"/> — the first session was refused or has ended.
    /// </summary>
    public async Task<string> ServeAsync(
        ControlChannel channel, RelayOpener relays, TimeSpan heartbeat, bool oneSession, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        using var over = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Volatile.Write(ref _oneSessionOver, oneSession ? over : null);
        Volatile.Write(ref _relays, relays);
        Volatile.Write(ref _channel, channel);
        using var beating = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var beats = SendHeartbeatsAsync(channel, heartbeat, beating.Token);
        string? lastError = null;
        try
        {
            using var silence = new SilenceWatchdog(over.Token);
            while (true)
            {
                ControlMessage? message;
                try
                {
                    message = await channel.ReceiveAsync(silence.Arm(heartbeat * 3));
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return over.IsCancellationRequested ? "the session is over" : "the server stopped answering";
                }
                catch (Exception ex) when (ex is WebSocketException or IOException && Outcome != OneSessionOutcome.None)
                {
                    // The one session is over and the server let go first: nothing is lost.
                    return "the session is over";
                }

                switch (message)
                {
                    case null:
                        return lastError ?? "the server closed the connection";
                    case Heartbeat:
                        break;
                    case SessionRequest request:
                        _ = AnswerAsync(channel, request, cancellationToken);
                        break;
                    case SessionRightsRequest rights:
                        _ = AnswerRightsAsync(channel, rights, cancellationToken);
                        break;
                    case StreamOpen open:
                        _ = OpenStreamAsync(relays, channel, open, cancellationToken);
                        break;
                    case SessionEnded ended:
                        EndSession(ended.SessionId, ended.Reason);
                        break;
                    case ScriptRun run:
                        _ = RunScriptAsync(channel, run, cancellationToken);
                        break;
                    case ChatMessage chat:
                        if (_sessions.TryGetValue(chat.SessionId ?? string.Empty, out var chatting) && chatting.Granted.Contains(SessionPermissions.Chat))
                        {
                            _terminal.Say(HostText.ChatFrom(chat.From ?? chatting.Supporter, ChatMessage.Clean(chat.Text)));
                        }

                        break;
                    case ChannelError error:
                        lastError = error.Message;
                        _terminal.Say(HostText.ServerSays(error.Message));
                        break;
                    default:
                        throw new ControlProtocolException(WebSocketCloseStatus.PolicyViolation, $"unexpected {message.GetType().Name} from the server");
                }
            }
        }
        finally
        {
            Volatile.Write(ref _channel, null);
            Volatile.Write(ref _relays, null);
            Volatile.Write(ref _oneSessionOver, null);
            await beating.CancelAsync();
            await beats;
        }
    }

    /// <summary>The user typed 'stop' (or pressed Ctrl+C): end every session here first, then tell the server.</summary>
    public void EmergencyStop()
    {
        var count = _sessions.Count;
        EndAllSessions(null, finish: false);
        if (count > 0)
        {
            Decide(OneSessionOutcome.Ended);
        }

        _terminal.Say(count == 0 ? HostText.NoSessionRunning : HostText.StoppedSessions(count));
        _ = TellServerAsync(count > 0);
    }

    public void EndAllSessions(string? reason) => EndAllSessions(reason, finish: true);

    private async Task TellServerAsync(bool stopped)
    {
        if (Volatile.Read(ref _channel) is { } channel)
        {
            await channel.TrySendAsync(new SessionStop(null, "emergency stop by the host's user"), CancellationToken.None);
        }

        if (stopped)
        {
            Finish(OneSessionOutcome.Ended);
        }
    }

    private void EndAllSessions(string? reason, bool finish)
    {
        foreach (var id in _sessions.Keys.ToList())
        {
            EndSession(id, reason, finish);
        }
    }

    private static async Task SendHeartbeatsAsync(ControlChannel channel, TimeSpan interval, CancellationToken cancellationToken)
    {
        try
        {
            using var timer = new PeriodicTimer(interval);
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await channel.SendAsync(new Heartbeat(), cancellationToken);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            // The channel ended; the receive loop reports why.
        }
    }

    private async Task AnswerAsync(ControlChannel channel, SessionRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var asked = (request.Permissions ?? []).Where(SessionPermissions.IsKnown).Distinct(StringComparer.Ordinal).ToList();
            var unknownService = asked.FirstOrDefault(p => !Offers(p));
            var rights = DescribeRights(asked, _files?.Root);
            var terms = SupportTerms.Choose(request.Terms, CultureInfo.CurrentUICulture.TwoLetterISOLanguageName);
            bool accepted;
            string? reason = null;
            if (unknownService is not null)
            {
                accepted = false;
                reason = $"this host does not offer {unknownService}";
            }
            else if (request.Consent == "auto" && !_alwaysAsk)
            {
                accepted = true;
                _terminal.Say(HostText.AllowedByPolicy(request.SupporterDisplayName, rights));
            }
            else
            {
                if (terms is not null)
                {
                    _terminal.Say(HostText.TermsHeader + Environment.NewLine + terms.Text);
                }

                accepted = await _terminal.AskAsync(HostText.ConsentQuestion(request.SupporterDisplayName, rights), ConsentTimeout, cancellationToken);
                reason = accepted ? null : HostText.Refused;
            }

            if (accepted)
            {
                var session = new LocalSession(
                    request.SessionId, request.Supporter, asked.ToHashSet(StringComparer.Ordinal), request.MaxFileSize ?? FileTransferProtocol.DefaultMaxFileSize);
                _sessions[session.Id] = session;
                // While a session runs, a warm relay connection waits for its next stream.
                Volatile.Read(ref _relays)?.KeepSpare(true);
                _terminal.Say(HostText.SessionBanner(session.Id, request.SupporterDisplayName, rights));
                if (session.Granted.Contains(SessionPermissions.Chat))
                {
                    _terminal.Say(HostText.ChatHint);
                }
            }

            if (!accepted)
            {
                Decide(OneSessionOutcome.Refused);
            }

            await channel.SendAsync(
                new SessionAnswer(request.SessionId, accepted, accepted ? asked : [], reason, accepted && terms is not null ? SupportTerms.Sha256(terms.Text) : null),
                cancellationToken);
            if (!accepted)
            {
                Finish(OneSessionOutcome.Refused);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            EndSession(request.SessionId, "the connection to the server was lost");
        }
    }

    /// <summary>
    /// A library script in a session granted <c>scripts</c>: the user sees its name and text and is asked
    /// (unless the group's policy allows it unattended, which is said); it runs, and the result goes back.
    /// </summary>
    private async Task RunScriptAsync(ControlChannel channel, ScriptRun run, CancellationToken cancellationToken)
    {
        try
        {
            ScriptResult result;
            if (!_sessions.TryGetValue(run.SessionId ?? string.Empty, out var session) || !session.Granted.Contains(SessionPermissions.Scripts))
            {
                result = ScriptRunner.Refused(run, "not granted by this host");
            }
            else if (run.Consent == "auto" && !_alwaysAsk)
            {
                _terminal.Say(HostText.ScriptAllowedByPolicy(session.Supporter, run.Name, run.Shell) + Environment.NewLine + run.Body);
                result = await RunAndTellAsync(run, session.Ended.Token);
            }
            else
            {
                _terminal.Say(HostText.ScriptQuestion(session.Supporter, run.Name, run.Shell) + Environment.NewLine + run.Body);
                result = await _terminal.AskAsync(HostText.ScriptAllowQuestion, ConsentTimeout, session.Ended.Token)
                    ? await RunAndTellAsync(run, session.Ended.Token)
                    : ScriptRunner.Refused(run, "the host's user refused");
            }

            await channel.TrySendAsync(result, cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or IOException)
        {
            // The session ended meanwhile: the server tells the supporter.
        }
    }

    private async Task<ScriptResult> RunAndTellAsync(ScriptRun run, CancellationToken cancellationToken)
    {
        // On the thread pool: starting the process (and writing its script file) must not hold up the thread that
        // serves the sockets' events (SocketCompletions.PreferInline).
        var result = await Task.Run(() => ScriptRunner.RunAsync(run, cancellationToken), cancellationToken);
        _terminal.Say(
            result.TimedOut ? HostText.ScriptTimedOut(run.Name, run.TimeoutSeconds)
            : result.Ran ? HostText.ScriptDone(run.Name, result.ExitCode)
            : HostText.ScriptNotRun(run.Name, result.Refusal));
        return result;
    }

    /// <summary>The user typed a line: to every running session with chat (normally one); false when there is none.</summary>
    private async Task<bool> ChatAsync(string line, CancellationToken cancellationToken)
    {
        var chatting = _sessions.Values.Where(s => s.Granted.Contains(SessionPermissions.Chat)).ToList();
        if (chatting.Count == 0 || Volatile.Read(ref _channel) is not { } channel || ChatMessage.Clean(line) is not { } text)
        {
            return false;
        }

        foreach (var session in chatting)
        {
            await channel.TrySendAsync(new ChatMessage(session.Id, null, text), cancellationToken);
        }

        return true;
    }

    /// <summary>Whether this host can give <paramref name="permission"/> at all: its services, and files only with a shared folder.</summary>
    private bool Offers(string permission) =>
        SessionPermissions.TryGetTunnel(permission, out var service) ? _services.ContainsKey(service)
        : permission != SessionPermissions.Files || _files is not null;

    /// <summary>
    /// The supporter of a running session asks for more (control after viewing): asked like a session —
    /// never granted for a session this host does not hold or a service it does not offer. Streams opened
    /// afterwards carry the new rights; the viewer opens a new screen stream for them.
    /// </summary>
    private async Task AnswerRightsAsync(ControlChannel channel, SessionRightsRequest request, CancellationToken cancellationToken)
    {
        var asked = (request.Permissions ?? []).Where(SessionPermissions.IsKnown).Distinct(StringComparer.Ordinal).ToList();
        if (!_sessions.TryGetValue(request.SessionId ?? string.Empty, out var session)
            || asked.Count == 0
            || asked.Any(p => !Offers(p)))
        {
            await channel.TrySendAsync(new SessionRightsAnswer(request.AskId, false, [], "not offered by this host"), cancellationToken);
            return;
        }

        if (!session.TryBeginAsking())
        {
            await channel.TrySendAsync(new SessionRightsAnswer(request.AskId, false, [], "the user is being asked already"), cancellationToken);
            return;
        }

        try
        {
            var rights = DescribeRights(asked);
            bool accepted;
            if (request.Consent == "auto" && !_alwaysAsk)
            {
                accepted = true;
                _terminal.Say(HostText.MoreRightsAllowedByPolicy(session.Id, request.SupporterDisplayName, rights));
            }
            else
            {
                using var ended = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, session.Ended.Token);
                accepted = await _terminal.AskAsync(HostText.MoreRightsQuestion(session.Id, request.SupporterDisplayName, rights), ConsentTimeout, ended.Token);
            }

            accepted &= !session.Ended.IsCancellationRequested;
            if (accepted)
            {
                session.Grant(asked);
                _terminal.Say(HostText.MoreRightsGranted(session.Id, request.SupporterDisplayName, rights));
            }

            await channel.SendAsync(new SessionRightsAnswer(request.AskId, accepted, accepted ? asked : [], accepted ? null : HostText.Refused), cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            // The session or the channel ended meanwhile; the server tells the supporter.
        }
        finally
        {
            session.EndAsking();
        }
    }

    private async Task OpenStreamAsync(RelayOpener relays, ControlChannel channel, StreamOpen open, CancellationToken cancellationToken)
    {
        if (open.Service == SessionPermissions.FilesService)
        {
            await ServeFilesAsync(relays, channel, open, cancellationToken);
            return;
        }

        if (open.Service == SessionPermissions.SystemInfoService)
        {
            await ServeSystemInfoAsync(relays, channel, open, cancellationToken);
            return;
        }

        // Checked here, whatever the server says: only a session this host granted, only a granted service.
        if (!_sessions.TryGetValue(open.SessionId, out var session)
            || !session.Granted.Contains(SessionPermissions.Tunnel(open.Service))
            || !_services.TryGetValue(open.Service, out var target))
        {
            await channel.TrySendAsync(new StreamFailed(open.StreamId, "not granted by this host"), cancellationToken);
            return;
        }

        var filtered = target.IsScreen && !session.Granted.Contains(SessionPermissions.Control);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        // The local service and the relay half are opened at the same time: set-up costs the slower of the two.
        var relayOpening = relays.OpenAsync(open.Ticket, session.Ended.Token);
        try
        {
            await socket.ConnectAsync(target.Host, target.Port, session.Ended.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            await channel.TrySendAsync(new StreamFailed(open.StreamId, $"the service '{open.Service}' is not reachable on this host"), cancellationToken);
            await RelayOpener.DiscardAsync(relayOpening);
            return;
        }

        try
        {
            await using var local = new NetworkStream(socket, ownsSocket: false);
            await using var relay = await relayOpening;
            if (filtered)
            {
                // Both ways: no input reaches the screen, and the host's clipboard does not reach the supporter.
                var viewOnly = new RfbViewOnlySession();
                await RelayPump.RunAsync(
                    relay,
                    local,
                    (supporter, screen, token) => ViewOnlyAsync(RfbViewOnlyFilter.CopyAsync(supporter, screen, viewOnly, token)),
                    (screen, supporter, token) => ViewOnlyAsync(RfbViewOnlyFilter.CopyServerAsync(screen, supporter, viewOnly, token)),
                    session.Ended.Token);
            }
            else
            {
                await RelayPump.RunAsync(relay, local, session.Ended.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            await channel.TrySendAsync(new StreamFailed(open.StreamId, "the relay stream could not be opened"), cancellationToken);
        }
    }

    /// <summary>A file-transfer stream: only in a session granted <c>files</c>, only inside the shared folder; every transfer is reported to the server's audit trail.</summary>
    private async Task ServeFilesAsync(RelayOpener relays, ControlChannel channel, StreamOpen open, CancellationToken cancellationToken)
    {
        if (_files is null || !_sessions.TryGetValue(open.SessionId, out var session) || !session.Granted.Contains(SessionPermissions.Files))
        {
            await channel.TrySendAsync(new StreamFailed(open.StreamId, "not granted by this host"), cancellationToken);
            return;
        }

        var service = new FileService(_files, report => channel.TrySendAsync(report, cancellationToken), _terminal.Say);
        try
        {
            await using var relay = await relays.OpenAsync(open.Ticket, session.Ended.Token);
            await service.ServeAsync(session.Id, relay, session.MaxFileSize, session.Ended.Token);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or WebSocketException)
        {
            // The supporter went away or the session ended; an interrupted upload can be resumed.
        }
    }

    /// <summary>A system-information stream: only in a session granted <c>sysinfo</c>; one read-only report, then the stream closes.</summary>
    private async Task ServeSystemInfoAsync(RelayOpener relays, ControlChannel channel, StreamOpen open, CancellationToken cancellationToken)
    {
        if (!_sessions.TryGetValue(open.SessionId, out var session) || !session.Granted.Contains(SessionPermissions.SystemInfo))
        {
            await channel.TrySendAsync(new StreamFailed(open.StreamId, "not granted by this host"), cancellationToken);
            return;
        }

        try
        {
            var relayOpening = relays.OpenAsync(open.Ticket, session.Ended.Token);
            // On the thread pool: reading every process's figures takes milliseconds that the sockets' events must not wait for.
            var report = await Task.Run(() => SystemInformation.GatherAsync(session.Ended.Token), session.Ended.Token);
            await using var relay = await relayOpening;
            await relay.WriteAsync(report.ToJson(), session.Ended.Token);
            await relay.FlushAsync(session.Ended.Token);
            _terminal.Say(HostText.SystemInfoSent);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or WebSocketException)
        {
            await channel.TrySendAsync(new StreamFailed(open.StreamId, "the system information could not be sent"), cancellationToken);
        }
    }

    private async Task<long> ViewOnlyAsync(Task<RfbFilterResult> copy)
    {
        var result = await copy;
        if (result.Outcome == RfbFilterOutcome.Violation)
        {
            _terminal.Say(HostText.ViewOnlyClosed(result.Violation));
        }

        return result.BytesForwarded;
    }

    /// <summary>Ends a session here (its streams close); says why unless <paramref name="reason"/> is null.</summary>
    private void EndSession(string sessionId, string? reason, bool finish = true)
    {
        if (_sessions.TryRemove(sessionId, out var session))
        {
            if (_sessions.IsEmpty)
            {
                Volatile.Read(ref _relays)?.KeepSpare(false);
            }

            // Not disposed: stream tasks may still read its token; cancelled sources hold nothing.
            session.Ended.Cancel();
            if (reason is not null)
            {
                _terminal.Say(HostText.SessionEnded(sessionId, session.Supporter, reason));
            }

            if (finish)
            {
                Finish(OneSessionOutcome.Ended);
            }
        }
    }

    /// <summary>
    /// Records how the one session went before the server hears of it: the server answers an ad-hoc customer's refusal or
    /// stop by closing the channel, which must not read as "no session came about".
    /// </summary>
    private void Decide(OneSessionOutcome outcome)
    {
        if (Volatile.Read(ref _oneSessionOver) is not null && Outcome == OneSessionOutcome.None)
        {
            Outcome = outcome;
        }
    }

    /// <summary>
    /// With one session only, the first refusal or end finishes <see cref="ServeAsync"/>: the channel is
    /// closed properly (so what was sent before arrives), and cut a few seconds later if the server does not answer.
    /// </summary>
    private void Finish(OneSessionOutcome outcome)
    {
        if (Volatile.Read(ref _oneSessionOver) is not { } over)
        {
            return;
        }

        if (Outcome == OneSessionOutcome.None)
        {
            Outcome = outcome;
        }

        _ = CloseAsync(Volatile.Read(ref _channel), over);
    }

    private static async Task CloseAsync(ControlChannel? channel, CancellationTokenSource over)
    {
        if (channel is not null)
        {
            using var timeout = new CancellationTokenSource(OneSessionCloseTimeout);
            await channel.CloseAsync(WebSocketCloseStatus.NormalClosure, "the session is over", timeout.Token);
        }

        try
        {
            over.CancelAfter(OneSessionCloseTimeout);
        }
        catch (ObjectDisposedException)
        {
            // ServeAsync has returned already.
        }
    }

    /// <summary>The rights as the host's user reads them: "see your screen, use your keyboard and mouse, reach the service 'screen'".</summary>
    internal static string DescribeRights(IEnumerable<string> permissions, string? filesFolder = null) =>
        string.Join(", ", permissions.Select(p =>
            p == SessionPermissions.View ? HostText.RightView
            : p == SessionPermissions.Control ? HostText.RightControl
            : p == SessionPermissions.Files ? HostText.RightFiles(filesFolder)
            : p == SessionPermissions.SystemInfo ? HostText.RightSystemInfo
            : p == SessionPermissions.Chat ? HostText.RightChat
            : p == SessionPermissions.Scripts ? HostText.RightScripts
            : SessionPermissions.TryGetTunnel(p, out var service) ? HostText.RightTunnel(service)
            : p));


    public void Dispose()
    {
        EndAllSessions(null);
        _terminal.Dispose();
    }
}

/// <summary>How an ad-hoc customer's one session went.</summary>
internal enum OneSessionOutcome
{
    None,
    Refused,
    Ended,
}
