using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using PrivateServer.HostModule.Rfb;
using PrivateServer.Protocol;
using PrivateServer.Protocol.Control;
using PrivateServer.Protocol.Relay;
using PrivateServer.Protocol.Sessions;
using PrivateServer.Protocol.Transport;
using PrivateServer.Protocol.Trust;

namespace PrivateServer.HostModule.Agent;

/// <summary>
/// The installed host's life: keep one control channel to the server (reconnecting with
/// exponential backoff and jitter), ask for consent, open the host's halves of granted streams,
/// filter RFB input without <c>control</c>, and end everything on the emergency stop. Consent
/// lives here, not on the server: a stream for a session this host did not grant is refused.
/// </summary>
internal sealed class HostAgent : IDisposable
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ConsentTimeout = TimeSpan.FromMinutes(2);

    private readonly Uri _server;
    private readonly CaPin _pin;
    private readonly X509Certificate2 _ca;
    private readonly X509Certificate2 _certificate;
    private readonly Uri? _proxy;
    private readonly string _name;
    private readonly IReadOnlyDictionary<string, ServiceTarget> _services;
    private readonly HostTerminal _terminal;
    private readonly ConcurrentDictionary<string, LocalSession> _sessions = new(StringComparer.Ordinal);
    private ControlChannel? _channel;
    private RelayOpener? _relays;

    public HostAgent(Uri server, CaPin pin, X509Certificate2 ca, X509Certificate2 certificate, Uri? proxy, string name, IEnumerable<ServiceTarget> services, TextReader input, TextWriter output)
    {
        _server = server;
        _pin = pin;
        _ca = ca;
        _certificate = certificate;
        _proxy = proxy;
        _name = name;
        _services = services.ToDictionary(s => s.Name, StringComparer.Ordinal);
        _terminal = new HostTerminal(input, output, EmergencyStop);
    }

    private sealed record LocalSession(string Id, string Supporter, IReadOnlySet<string> Granted, CancellationTokenSource Ended);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        _ = _terminal.RunAsync(cancellationToken);
        var attempt = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            string problem;
            try
            {
                using var client = new ModuleClient(_server, _pin, _ca, _certificate, _proxy);
                await using var relays = new RelayOpener(client, bearer: null);
                using var channel = await client.ConnectControlAsync("api/v1/host/connect", bearer: null, ModuleTimings.HostKeepAlive, cancellationToken);
                Volatile.Write(ref _relays, relays);
                problem = await RunChannelAsync(relays, channel, () => attempt = 0, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is IOException or WebSocketException or ControlProtocolException or OperationCanceledException)
            {
                problem = ModuleCommandLine.OneLine(ex.Message);
            }
            finally
            {
                Volatile.Write(ref _channel, null);
                Volatile.Write(ref _relays, null);
                EndAllSessions("the connection to the server was lost");
            }

            if (cancellationToken.IsCancellationRequested)
            {
                break;
            }

            var delay = Backoff(attempt++);
            _terminal.Say($"Offline: {problem}. Next attempt in {delay.TotalSeconds:0.#} s.");
            try
            {
                await Task.Delay(delay, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        EndAllSessions("the host module stopped");
    }

    /// <summary>Exponential backoff with jitter: 1 s, 2 s, 4 s … 60 s, each scaled by a random 50–100 %.</summary>
    internal static TimeSpan Backoff(int attempt)
    {
        var ceiling = Math.Min(LongestRetry.TotalMilliseconds, FirstRetry.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 16)));
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + (Random.Shared.NextDouble() / 2)));
    }

    private async Task<string> RunChannelAsync(RelayOpener relays, ControlChannel channel, Action connected, CancellationToken cancellationToken)
    {
        await channel.SendAsync(
            new HostHello(_name, RuntimeInformation.OSDescription, ProtocolInfo.ProductVersion(typeof(HostAgent).Assembly), _services.Keys.Order(StringComparer.Ordinal).ToList()),
            cancellationToken);
        Welcome welcome;
        using (var first = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            first.CancelAfter(TimeSpan.FromSeconds(30));
            welcome = await channel.ReceiveAsync(first.Token) as Welcome
                ?? throw new IOException("the server did not welcome this host");
        }

        connected();
        Volatile.Write(ref _channel, channel);
        var heartbeat = TimeSpan.FromSeconds(Math.Max(2, welcome.HeartbeatSeconds));
        _terminal.Say($"Online as '{welcome.Name}' ({welcome.HostId}) at {_server.Authority}; offering {Describe(_services.Values)}.");
        using var beating = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var beats = SendHeartbeatsAsync(channel, heartbeat, beating.Token);
        try
        {
            using var silence = new SilenceWatchdog(cancellationToken);
            while (true)
            {
                ControlMessage? message;
                try
                {
                    message = await channel.ReceiveAsync(silence.Arm(heartbeat * 3));
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return "the server stopped answering";
                }

                switch (message)
                {
                    case null:
                        return "the server closed the connection";
                    case Heartbeat:
                        break;
                    case SessionRequest request:
                        _ = AnswerAsync(channel, request, cancellationToken);
                        break;
                    case StreamOpen open:
                        _ = OpenStreamAsync(relays, channel, open, cancellationToken);
                        break;
                    case SessionEnded ended:
                        EndSession(ended.SessionId, ended.Reason);
                        break;
                    case ChannelError error:
                        _terminal.Say("The server says: " + error.Message);
                        break;
                    default:
                        throw new ControlProtocolException(WebSocketCloseStatus.PolicyViolation, $"unexpected {message.GetType().Name} from the server");
                }
            }
        }
        finally
        {
            await beating.CancelAsync();
            await beats;
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
            var unknownService = asked.FirstOrDefault(p => SessionPermissions.TryGetTunnel(p, out var s) && !_services.ContainsKey(s));
            bool accepted;
            string? reason = null;
            if (unknownService is not null)
            {
                accepted = false;
                reason = $"this host does not offer {unknownService}";
            }
            else if (request.Consent == "auto")
            {
                accepted = true;
                _terminal.Say($"{request.SupporterDisplayName} ({request.Supporter}) connects with {SessionPermissions.Describe(asked)}: allowed by policy without asking.");
            }
            else
            {
                accepted = await _terminal.AskAsync(
                    $"{request.SupporterDisplayName} ({request.Supporter}) asks for a support session with {SessionPermissions.Describe(asked)}. Allow?",
                    ConsentTimeout, cancellationToken);
                reason = accepted ? null : "the user refused";
            }

            if (accepted)
            {
                var session = new LocalSession(request.SessionId, request.Supporter, asked.ToHashSet(StringComparer.Ordinal), new CancellationTokenSource());
                _sessions[session.Id] = session;
                // While a session runs, a warm relay connection waits for its next stream.
                Volatile.Read(ref _relays)?.KeepSpare(true);
                _terminal.Say($"Session {session.Id}: {request.SupporterDisplayName} ({request.Supporter}) is connected with {SessionPermissions.Describe(asked)}. " +
                    "Type 'stop' and Enter (or press Ctrl+C) to end every session now.");
            }

            await channel.SendAsync(new SessionAnswer(request.SessionId, accepted, accepted ? asked : [], reason), cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            EndSession(request.SessionId, "the connection to the server was lost");
        }
    }

    private async Task OpenStreamAsync(RelayOpener relays, ControlChannel channel, StreamOpen open, CancellationToken cancellationToken)
    {
        // Checked here, whatever the server says: only a session this host granted, only a granted service.
        if (!_sessions.TryGetValue(open.SessionId, out var session)
            || !session.Granted.Contains(SessionPermissions.Tunnel(open.Service))
            || !_services.TryGetValue(open.Service, out var target))
        {
            await TrySendAsync(channel, new StreamFailed(open.StreamId, "not granted by this host"), cancellationToken);
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
            await TrySendAsync(channel, new StreamFailed(open.StreamId, $"the service '{open.Service}' is not reachable on this host"), cancellationToken);
            await RelayOpener.DiscardAsync(relayOpening);
            return;
        }

        try
        {
            await using var local = new NetworkStream(socket, ownsSocket: false);
            await using var relay = await relayOpening;
            await RelayPump.RunAsync(relay, local, filtered ? ViewOnlyAsync : null, session.Ended.Token);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            await TrySendAsync(channel, new StreamFailed(open.StreamId, "the relay stream could not be opened"), cancellationToken);
        }
    }

    private async Task<long> ViewOnlyAsync(Stream supporter, Stream screen, CancellationToken cancellationToken)
    {
        var result = await RfbViewOnlyFilter.CopyAsync(supporter, screen, cancellationToken);
        if (result.Outcome == RfbFilterOutcome.Violation)
        {
            _terminal.Say($"A view-only screen stream was closed: {result.Violation}");
        }

        return result.BytesForwarded;
    }

    /// <summary>The user typed 'stop' (or pressed Ctrl+C): end every session here first, then tell the server.</summary>
    private void EmergencyStop()
    {
        var count = _sessions.Count;
        EndAllSessions(null);
        _terminal.Say(count == 0 ? "No session is running." : $"Stopped {count} session(s). Nothing resumes without your consent.");
        if (Volatile.Read(ref _channel) is { } channel)
        {
            _ = TrySendAsync(channel, new SessionStop(null, "emergency stop by the host's user"), CancellationToken.None);
        }
    }

    /// <summary>Ends a session here (its streams close); says why unless <paramref name="reason"/> is null.</summary>
    private void EndSession(string sessionId, string? reason)
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
                _terminal.Say($"Session {sessionId} with {session.Supporter} ended: {reason}.");
            }
        }
    }

    private void EndAllSessions(string? reason)
    {
        foreach (var id in _sessions.Keys.ToList())
        {
            EndSession(id, reason);
        }
    }

    private static async Task TrySendAsync(ControlChannel channel, ControlMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await channel.SendAsync(message, cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            // The channel is gone; the server ends the session on its side.
        }
    }

    private static string Describe(IEnumerable<ServiceTarget> services)
    {
        var names = services.Select(s => s.IsScreen ? s.Name + " (VNC, view-only unless control is granted)" : s.Name).ToList();
        return names.Count == 0 ? "no services (use --service NAME=HOST:PORT)" : "services " + string.Join(", ", names);
    }

    public void Dispose()
    {
        EndAllSessions(null);
        _terminal.Dispose();
    }
}
