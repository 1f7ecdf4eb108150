using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrivateServer.Protocol.Api;
using PrivateServer.Server.AdHoc;
using PrivateServer.Server.Api;
using PrivateServer.Server.Broker;
using PrivateServer.Server.Hosts;
using PrivateServer.Server.Recording;
using PrivateServer.Server.Relay;

namespace PrivateServer.Server.Web.Console;

/// <summary>
/// What the supporter console's scripts call under <c>/web</c>, with the browser's cookie: the host
/// list and the waiting queue (JSON, polled), the session channel (a WebSocket speaking the same
/// control protocol as the supporter module) and relay streams (a binary WebSocket whose first,
/// text message is the stream ticket; the server pairs it with the host's half and pumps bytes,
/// it does not translate RFB). WebSockets are accepted only from this appliance's own origin.
/// </summary>
public static partial class ConsoleEndpoints
{
    public const string Prefix = "/web";
    private static readonly TimeSpan TicketTimeout = TimeSpan.FromSeconds(10);
    private const int MaximumTicketLength = 128;

    public static IEndpointRouteBuilder MapConsoleEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var web = endpoints.MapGroup(Prefix).RequireAuthorization(WebUsers.SupporterPolicy);
        web.MapGet("/hosts", HostsAsync);
        web.MapGet("/queue", QueueAsync);
        // Browsers open WebSockets over HTTP/2 as extended CONNECT (RFC 8441), over HTTP/1.1 as GET: Map takes both.
        web.Map("/session", SessionAsync);
        web.Map("/relay", RelayAsync);
        return endpoints;
    }

    private static async Task<Results<Ok<List<HostSummary>>, UnauthorizedHttpResult>> HostsAsync(
        HttpContext context, WebUsers users, IHostStore hosts, HostPresence presence, CancellationToken cancellationToken)
    {
        var user = await users.CurrentAsync(context, cancellationToken);
        return user is null ? TypedResults.Unauthorized() : TypedResults.Ok(await ModuleApiEndpoints.HostsOfAsync(user, hosts, presence, cancellationToken));
    }

    private static async Task<Results<Ok<List<WaitingRequest>>, UnauthorizedHttpResult>> QueueAsync(
        HttpContext context, WebUsers users, AdHocDesk desk, CancellationToken cancellationToken)
    {
        var user = await users.CurrentAsync(context, cancellationToken);
        return user is null ? TypedResults.Unauthorized() : TypedResults.Ok(ModuleApiEndpoints.QueueOf(user, desk));
    }

    private static async Task<IResult> SessionAsync(
        HttpContext context, WebUsers users, SessionBroker broker, IOptions<BrokerOptions> options, ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var (user, problem) = await WebSocketCallerAsync(context, users, cancellationToken);
        if (user is null)
        {
            return problem!;
        }

        await ModuleApiEndpoints.RunSessionChannelAsync(context, user, broker, options.Value, loggers.CreateLogger(typeof(ConsoleEndpoints)));
        return TypedResults.Empty;
    }

    private static async Task<IResult> RelayAsync(
        HttpContext context, WebUsers users, RelayRendezvous rendezvous, TimeProvider time, ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var (user, problem) = await WebSocketCallerAsync(context, users, cancellationToken);
        if (user is null)
        {
            return problem!;
        }

        var logger = loggers.CreateLogger(typeof(ConsoleEndpoints));
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        var ticket = await ReadTicketAsync(socket, context.RequestAborted);
        var taken = ticket is null ? null : rendezvous.Take(ticket, RelaySide.Supporter, user.Name, time.GetUtcNow());
        if (taken is not { } half)
        {
            LogTicketRefused(logger, user.Name, ModuleApiEndpoints.Source(context));
            await CloseAsync(socket, WebSocketCloseStatus.PolicyViolation, "stream ticket refused");
            return TypedResults.Empty;
        }

        await using (var stream = WebSocketStream.Create(socket, WebSocketMessageType.Binary, ownsWebSocket: false))
        await using (var graceful = new GracefulWebSocketStream(socket, stream))
        {
            await SupporterHalf.RunAsync(half.Stream, graceful, logger, context.RequestServices.GetRequiredService<ScreenRecordings>());
        }

        await CloseAsync(socket, WebSocketCloseStatus.NormalClosure, half.Stream.FailureReason is null ? "stream closed" : "stream not opened");
        return TypedResults.Empty;
    }

    /// <summary>The signed-in caller of a WebSocket endpoint, which must come from this appliance's own pages.</summary>
    private static async Task<(Accounts.User? User, IResult? Problem)> WebSocketCallerAsync(
        HttpContext context, WebUsers users, CancellationToken cancellationToken)
    {
        var user = await users.CurrentAsync(context, cancellationToken);
        if (user is null)
        {
            return (null, TypedResults.Unauthorized());
        }

        if (!context.WebSockets.IsWebSocketRequest)
        {
            return (null, TypedResults.Problem(detail: "this endpoint is a WebSocket", statusCode: StatusCodes.Status400BadRequest));
        }

        // Cookies ride along with cross-site WebSocket handshakes in some browsers: the origin must be ours.
        var origin = context.Request.Headers.Origin.ToString();
        var own = context.Request.Scheme + "://" + context.Request.Host.Value;
        return string.Equals(origin, own, StringComparison.OrdinalIgnoreCase)
            ? (user, null)
            : (null, TypedResults.Problem(detail: "WebSockets are accepted from this appliance's own pages only", statusCode: StatusCodes.Status403Forbidden));
    }

    /// <summary>The first message of a relay WebSocket: the ticket, as one short text message.</summary>
    private static async Task<string?> ReadTicketAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaximumTicketLength];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TicketTimeout);
        try
        {
            var received = await socket.ReceiveAsync(buffer.AsMemory(), timeout.Token);
            return received is { MessageType: WebSocketMessageType.Text, EndOfMessage: true } ? Encoding.UTF8.GetString(buffer, 0, received.Count) : null;
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            return null;
        }
    }

    private static async Task CloseAsync(WebSocket socket, WebSocketCloseStatus status, string reason)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await socket.CloseOutputAsync(status, reason, timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            // The browser is gone already.
        }
    }

    [LoggerMessage(EventId = 3206, Level = LogLevel.Warning, Message = "A relay ticket presented by {Identity} from {Source} in the browser was refused")]
    private static partial void LogTicketRefused(ILogger logger, string identity, string source);
}
