using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using PrivateServer.Protocol.Control;
using PrivateServer.Protocol.Relay;
using PrivateServer.Protocol.Sessions;
using PrivateServer.Protocol.Transport;

namespace PrivateServer.SupporterModule.Session;

/// <summary>
/// One session from the supporter's side: ask for it, wait for the host's consent, then turn
/// every local TCP connection on a forward into its own relay stream until the session ends.
/// </summary>
internal sealed class SupporterSession(ModuleClient client, string token, TextWriter error)
{
    /// <summary>The ids of queued customer requests start with this.</summary>
    public const string RequestPrefix = "rq-";

    /// <summary>A running session's id: "se-" and 20 characters of base64url (what <c>connect</c> prints).</summary>
    private static readonly System.Text.RegularExpressions.Regex SessionId = new("^se-[A-Za-z0-9_-]{20}$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    private static readonly TimeSpan StreamOpenTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Runs until Ctrl+C (returns normally) or until the session is refused or ended by someone else (throws with the reason).
    /// <paramref name="target"/> is an enrolled host's name or id, a session code (8 digits: waits for the customer to join
    /// with it), or a queued request's id (<c>rq-…</c>).
    /// </summary>
    public async Task RunAsync(string target, IReadOnlyList<Forward> forwards, bool viewOnly, CancellationToken cancellationToken)
    {
        var permissions = new List<string> { SessionPermissions.View };
        if (!viewOnly)
        {
            permissions.Add(SessionPermissions.Control);
        }

        permissions.AddRange(forwards.Select(f => SessionPermissions.Tunnel(f.Service)).Distinct(StringComparer.Ordinal));
        using var channel = await client.ConnectControlAsync("api/v1/sessions/connect", token, ModuleTimings.SupporterKeepAlive, cancellationToken);
        // Chat belongs in every session where the group allows it: asked for as optional, so a group without it still connects.
        await channel.SendAsync(Request(target, permissions) with { Optional = [SessionPermissions.Chat] }, cancellationToken);
        var granted = await AwaitConsentAsync(channel, cancellationToken);
        await using var relays = new RelayOpener(client, token);
        relays.KeepSpare(true);

        using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var listeners = new List<(TcpListener Listener, Forward Forward)>();
        var loops = new List<Task>();
        string? endedBecause = null;
        try
        {
            foreach (var forward in forwards)
            {
                if (!granted.Permissions.Contains(SessionPermissions.Tunnel(forward.Service), StringComparer.Ordinal))
                {
                    await error.WriteLineAsync($"The host did not grant the service '{forward.Service}'; not forwarding it.");
                    continue;
                }

                var listener = new TcpListener(IPAddress.Loopback, forward.LocalPort);
                try
                {
                    listener.Start();
                }
                catch (SocketException ex)
                {
                    listener.Dispose();
                    throw new IOException($"cannot listen on 127.0.0.1:{forward.LocalPort} for '{forward.Service}': {ex.Message}", ex);
                }

                listeners.Add((listener, forward));
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                await error.WriteLineAsync($"Forwarding 127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)} -> {forward.Service}");
            }

            await error.WriteLineAsync(
                $"Session {granted.SessionId} with '{granted.HostName}': {SessionPermissions.Describe(granted.Permissions)}. Press Ctrl+C to end it.");
            if (granted.Permissions.Contains(SessionPermissions.Chat, StringComparer.Ordinal))
            {
                await error.WriteLineAsync($"The host's user can write to you here; to answer: privateserver-supporter chat {granted.SessionId}");
            }

            loops.AddRange(listeners.Select(l => AcceptAsync(relays, granted.SessionId, l.Listener, l.Forward.Service, session.Token)));
            endedBecause = await ReceiveUntilEndAsync(channel, session.Token, chat => PrintChatAsync(error, chat, session.Token));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C: the supporter ends the session; the server tells the host.
        }
        finally
        {
            await session.CancelAsync();
            foreach (var (listener, _) in listeners)
            {
                listener.Dispose();
            }

            await Task.WhenAll(loops);
            using var close = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await channel.CloseAsync(WebSocketCloseStatus.NormalClosure, "session ended", close.Token);
        }

        if (endedBecause is not null)
        {
            throw new IOException("the session ended: " + endedBecause);
        }

        await error.WriteLineAsync("Session ended.");
    }

    /// <summary>
    /// A session with only the <c>files</c> right: asks for it, waits for consent, opens one stream to the
    /// host's file service, runs <paramref name="work"/> on it and ends the session.
    /// </summary>
    public Task<T> WithFilesAsync<T>(string target, Func<Stream, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        WithServiceAsync(target, [SessionPermissions.Files], SessionPermissions.FilesService, "file transfer", work, cancellationToken);

    /// <summary>Like <see cref="WithFilesAsync"/> for the <c>sysinfo</c> right and the host's system-information stream.</summary>
    public Task<T> WithSystemInfoAsync<T>(string target, Func<Stream, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        WithServiceAsync(target, [SessionPermissions.SystemInfo], SessionPermissions.SystemInfoService, "system information", work, cancellationToken);

    /// <summary>Like <see cref="WithFilesAsync"/> for one RFB stream to the host's screen with control (view, control, the screen's tunnel): the clipboard goes both ways only with control.</summary>
    public Task<T> WithScreenControlAsync<T>(string target, Func<Stream, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        WithServiceAsync(
            target,
            [SessionPermissions.View, SessionPermissions.Control, SessionPermissions.Tunnel(SessionPermissions.ScreenService)],
            SessionPermissions.ScreenService,
            "control of the screen",
            work,
            cancellationToken);

    private async Task<T> WithServiceAsync<T>(
        string target, IReadOnlyList<string> permissions, string service, string what, Func<Stream, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var (channel, granted) = await OpenWithAsync(target, permissions, what, cancellationToken);
        using var owned = channel;

        await using var relays = new RelayOpener(client, token);
        using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var receiving = ReceiveUntilEndAsync(channel, session.Token);
        try
        {
            var opening = RequestStreamAsync(relays, granted.SessionId, service, session.Token);
            if (await Task.WhenAny(opening, receiving) == receiving)
            {
                _ = RelayOpener.DiscardAsync(opening);
                throw new IOException("the session ended: " + await receiving);
            }

            await using var relay = await opening;
            return await work(relay, session.Token);
        }
        finally
        {
            await session.CancelAsync();
            try
            {
                await receiving;
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
            {
                // Ending the session.
            }

            using var close = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await channel.CloseAsync(WebSocketCloseStatus.NormalClosure, "session ended", close.Token);
        }
    }

    /// <summary>
    /// A chat session: asks for the <c>chat</c> right, then sends every line of <paramref name="input"/>
    /// and prints every line from the host on <paramref name="output"/> ("HH:mm:ss NAME: text") until
    /// input ends or Ctrl+C (returns) or the host ends the session (throws with the reason).
    /// </summary>
    public async Task ChatAsync(string target, TextReader input, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        var (channel, granted) = await OpenWithAsync(target, [SessionPermissions.Chat], "chat", cancellationToken);
        using var owned = channel;

        var attached = SessionId.IsMatch(target);
        await error.WriteLineAsync(attached
            ? $"Chat in your session {granted.SessionId} with '{granted.HostName}': type a line and press Enter; Ctrl+D or Ctrl+C leaves the chat, the session goes on."
            : $"Chat with '{granted.HostName}' (session {granted.SessionId}): type a line and press Enter; Ctrl+D or Ctrl+C ends it.");
        using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var receiving = ReceiveUntilEndAsync(channel, session.Token, chat => PrintChatAsync(output, chat, session.Token));
        string? endedBecause = null;
        try
        {
            var typing = TypeChatAsync(channel, input, session.Token);
            if (await Task.WhenAny(receiving, typing) == receiving)
            {
                endedBecause = await receiving;
            }
            else
            {
                await typing;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C: the supporter ends the chat.
        }
        finally
        {
            await session.CancelAsync();
            using var close = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await channel.CloseAsync(WebSocketCloseStatus.NormalClosure, "session ended", close.Token);
        }

        if (endedBecause is not null)
        {
            throw new IOException("the session ended: " + endedBecause);
        }

        await error.WriteLineAsync(attached ? "Left the chat." : "Chat ended.");
    }

    /// <summary>Runs the library script <paramref name="script"/> on the host in a session with only the <c>scripts</c> right; returns what became of it.</summary>
    public async Task<ScriptFinished> RunScriptAsync(string target, string script, CancellationToken cancellationToken)
    {
        var (channel, granted) = await OpenWithAsync(target, [SessionPermissions.Scripts], "scripts", cancellationToken);
        using var owned = channel;

        try
        {
            await channel.SendAsync(new ScriptRunRequest("script", script), cancellationToken);
            await error.WriteLineAsync($"Asked '{granted.HostName}' to run '{script}' …");
            while (true)
            {
                switch (await channel.ReceiveAsync(cancellationToken))
                {
                    case ScriptFinished finished:
                        return finished;
                    case SessionEnded ended:
                        throw new IOException("the session ended: " + ended.Reason);
                    case null:
                        throw new IOException("the server closed the session");
                    default:
                        break;
                }
            }
        }
        finally
        {
            using var close = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await channel.CloseAsync(WebSocketCloseStatus.NormalClosure, "session ended", close.Token);
        }
    }

    private static async Task TypeChatAsync(ControlChannel channel, TextReader input, CancellationToken cancellationToken)
    {
        while (await input.ReadLineAsync(cancellationToken) is { } line)
        {
            if (ChatMessage.Clean(line) is { } text)
            {
                await channel.SendAsync(new ChatMessage(null, null, text), cancellationToken);
            }
        }
    }

    private static async Task PrintChatAsync(TextWriter output, ChatMessage chat, CancellationToken cancellationToken)
    {
        var at = (chat.At ?? DateTimeOffset.UtcNow).ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture);
        await output.WriteLineAsync($"{at} {chat.From}: {ChatMessage.Clean(chat.Text)}");
        await output.FlushAsync(cancellationToken);
    }

    /// <summary>A session asked for with <paramref name="permissions"/>: its channel (the caller owns it) once the host granted them all.</summary>
    private async Task<(ControlChannel Channel, SessionGranted Granted)> OpenWithAsync(
        string target, IReadOnlyList<string> permissions, string what, CancellationToken cancellationToken)
    {
        var channel = await client.ConnectControlAsync("api/v1/sessions/connect", token, ModuleTimings.SupporterKeepAlive, cancellationToken);
        try
        {
            await channel.SendAsync(Request(target, permissions), cancellationToken);
            var granted = await AwaitConsentAsync(channel, cancellationToken);
            return permissions.All(p => granted.Permissions.Contains(p, StringComparer.Ordinal))
                ? (channel, granted)
                : throw new IOException($"'{granted.HostName}' did not grant {what}");
        }
        catch
        {
            channel.Dispose();
            throw;
        }
    }

    /// <summary>What <c>connect</c>'s argument names: a session code, a running session of yours (chat only), a queued request, or an enrolled host.</summary>
    internal static ConnectRequest Request(string target, IReadOnlyList<string> permissions) =>
        SessionCode.TryParse(target, out var code) ? new ConnectRequest(null, permissions, Code: code)
        : SessionId.IsMatch(target) ? new ConnectRequest(null, permissions, Session: target)
        : target.StartsWith(RequestPrefix, StringComparison.Ordinal) ? new ConnectRequest(null, permissions, Request: target)
        : new ConnectRequest(target, permissions);

    private async Task<SessionGranted> AwaitConsentAsync(ControlChannel channel, CancellationToken cancellationToken)
    {
        while (true)
        {
            switch (await channel.ReceiveAsync(cancellationToken))
            {
                case AwaitingCustomer awaiting:
                    await error.WriteLineAsync(
                        $"Waiting for the customer to join with the code (until {awaiting.ExpiresAt.ToLocalTime().ToString("t", CultureInfo.CurrentCulture)}) …");
                    break;
                case SessionWaiting waiting:
                    await error.WriteLineAsync($"Waiting for '{waiting.Host}' to accept the session …");
                    break;
                case SessionGranted granted:
                    return granted;
                case SessionRefused refused:
                    throw new IOException("the session was refused: " + refused.Reason);
                case null:
                    throw new IOException("the server closed the session channel");
                default:
                    break;
            }
        }
    }

    /// <summary>Reads the session's channel (chat lines to <paramref name="onChat"/>) until the session ends; returns why.</summary>
    private static async Task<string> ReceiveUntilEndAsync(ControlChannel channel, CancellationToken cancellationToken, Func<ChatMessage, Task>? onChat = null)
    {
        while (true)
        {
            switch (await channel.ReceiveAsync(cancellationToken))
            {
                case ChatMessage chat when onChat is not null:
                    await onChat(chat);
                    break;
                case SessionEnded ended:
                    return ended.Reason;
                case null:
                    return "the server closed the session";
                default:
                    break;
            }
        }
    }

    /// <summary>
    /// A new stream of the session to <paramref name="service"/>, asked for on a relay connection; a
    /// <see cref="TimeoutException"/> when the server has not answered within <see cref="StreamOpenTimeout"/> (the claim is
    /// cancelled, so a late answer leaves no stream open).
    /// </summary>
    private static async Task<Stream> RequestStreamAsync(RelayOpener relays, string sessionId, string service, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(StreamOpenTimeout);
        try
        {
            return await relays.RequestAsync(sessionId, service, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the stream to '{service}' was not opened within {StreamOpenTimeout.TotalSeconds:0} s");
        }
    }

    private async Task AcceptAsync(RelayOpener relays, string sessionId, TcpListener listener, string service, CancellationToken cancellationToken)
    {
        var streams = new List<Task>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var socket = await listener.AcceptSocketAsync(cancellationToken);
                socket.NoDelay = true;
                streams.Add(RelayAsync(relays, sessionId, socket, service, cancellationToken));
                streams.RemoveAll(t => t.IsCompleted);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The session ended: stop accepting.
        }

        await Task.WhenAll(streams);
    }

    private async Task RelayAsync(RelayOpener relays, string sessionId, Socket socket, string service, CancellationToken cancellationToken)
    {
        try
        {
            await using var local = new NetworkStream(socket, ownsSocket: true);
            await using var relay = await RequestStreamAsync(relays, sessionId, service, cancellationToken);
            await RelayPump.RunAsync(local, relay, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or TimeoutException or WebSocketException or ObjectDisposedException)
        {
            await error.WriteLineAsync($"A connection to '{service}' was not relayed: {ModuleCommandLine.OneLine(ex.Message)}");
        }
        catch (OperationCanceledException)
        {
            // Session ended.
        }
    }
}
