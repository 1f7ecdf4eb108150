using System.Net;
using System.Net.Security;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrivateServer.Protocol.Api;
using PrivateServer.Protocol.Control;
using PrivateServer.Protocol.Relay;
using PrivateServer.Protocol.Transport;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.AdHoc;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Broker;
using PrivateServer.Server.Hosts;
using PrivateServer.Server.Mail;
using PrivateServer.Server.Recording;
using PrivateServer.Server.Relay;
using PrivateServer.Server.Settings;

namespace PrivateServer.Server.Api;

/// <summary>
/// The module API under <c>/api/v1</c>: enrolment, supporter sign-in, the host list, session codes
/// and the waiting queue, the host, ad-hoc and session control channels (WebSocket) and relay
/// streams (HTTP/1.1 Upgrade to a raw stream).
/// </summary>
public static partial class ModuleApiEndpoints
{
    public const string Prefix = "/api/v1";

    public static IServiceCollection AddBroker(this IServiceCollection services)
    {
        services.AddOptions<BrokerOptions>().BindConfiguration(BrokerOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<HostPresence>();
        services.AddSingleton<RelayRendezvous>();
        services.TryAddSingleton<Scripts.ScriptDesk>();
        services.AddSingleton<SessionBroker>();
        services.AddSingleton<ILiveSessions>(sp => sp.GetRequiredService<SessionBroker>());
        services.AddHostedService<InterruptedSessions>();
        services.TryAddSingleton<UserRevocation>();
        services.AddSingleton<HostChannels>();
        services.AddSingleton<HostChannelEndpoint>();
        services.AddSingleton<HostEnrollment>();
        services.AddSingleton<ModuleIdentity>();
        services.AddOptions<AdHocOptions>().BindConfiguration(AdHocOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<CodeAttemptLimiter>();
        services.AddSingleton<SessionCodes>();
        services.AddSingleton<AdHocInvitations>();
        services.AddSingleton<SettingsService>();
        services.AddSingleton<ScreenRecordings>();
        services.AddOptions<RecordingOptions>().BindConfiguration(RecordingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddHostedService<RecordingRetention>();
        services.AddSingleton<AdHocDesk>();
        services.AddSignIn();
        return services;
    }

    public static IEndpointRouteBuilder MapModuleApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup(Prefix);
        // The CA certificate is public: modules that know only its fingerprint fetch it and check it.
        api.MapGet("/ca", (Tls.ServerCertificateStore certificates) =>
            TypedResults.Text(certificates.CaCertificate.ExportCertificatePem() + "\n", "application/x-pem-file"));
        api.MapPost("/enroll", EnrollAsync);
        api.MapPost("/auth/token", IssueTokenAsync);
        api.MapGet("/hosts", ListHostsAsync);
        api.MapGet("/host/connect", HostConnectAsync);
        api.MapGet("/sessions/connect", SessionConnectAsync);
        api.MapPost("/codes", CreateCodeAsync);
        api.MapGet("/queue", ListQueueAsync);
        api.MapGet("/adhoc/connect", AdHocConnectAsync);
        api.MapGet("/relay", RelayAsync);
        return endpoints;
    }

    private static async Task<Results<Ok<EnrollResponse>, ProblemHttpResult>> EnrollAsync(
        EnrollRequest request, HostEnrollment enrollment, HttpContext context, CancellationToken cancellationToken)
    {
        var (response, refusal) = await enrollment.EnrollAsync(request, Source(context), cancellationToken);
        return response is not null ? TypedResults.Ok(response) : TypedResults.Problem(detail: refusal, statusCode: StatusCodes.Status403Forbidden);
    }

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> IssueTokenAsync(
        TokenRequest request, LoginService login, ModuleIdentity identity, HttpContext context, CancellationToken cancellationToken)
    {
        var outcome = await login.SignInAsync(request.User, request.Password, request.Totp, context.Connection.RemoteIpAddress, cancellationToken);
        var (user, wait) = outcome;
        if (wait is { } retry)
        {
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(retry.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return TypedResults.Problem(
                detail: $"too many failed sign-ins from this address or for this name; try again in {LoginThrottle.WaitText(retry)}",
                statusCode: StatusCodes.Status429TooManyRequests);
        }

        if (outcome.SecondFactor is { Step: SecondFactorStep.Enrol })
        {
            return TypedResults.Problem(
                detail: "this account must sign in with a second factor and has none yet: sign in to the web console once to set up an authenticator app, then use --totp CODE",
                statusCode: StatusCodes.Status403Forbidden);
        }

        if (outcome.SecondFactor is not null)
        {
            return TypedResults.Problem(
                detail: string.IsNullOrWhiteSpace(request.Totp)
                    ? "this account signs in with a second factor: give the code of your authenticator app (or a recovery code) with --totp CODE"
                    : "wrong or already used second-factor code",
                statusCode: StatusCodes.Status401Unauthorized);
        }

        if (user is null)
        {
            // The same words for every refusal: a right password from a network the account may not use is not told apart.
            return TypedResults.Problem(detail: "wrong user name or password, or not allowed from this network", statusCode: StatusCodes.Status401Unauthorized);
        }

        if (user.Role is not (Accounts.Role.Supporter or Accounts.Role.Admin))
        {
            return TypedResults.Problem(detail: "only supporters and admins open sessions", statusCode: StatusCodes.Status403Forbidden);
        }

        var (token, expires) = await identity.IssueTokenAsync(user, cancellationToken);
        return TypedResults.Ok(new TokenResponse(token, expires, user.Name, user.Role.ToString().ToLowerInvariant()));
    }

    private static async Task<Results<Ok<List<HostSummary>>, ProblemHttpResult>> ListHostsAsync(
        ModuleIdentity identity, IHostStore hosts, HostPresence presence, HttpContext context, CancellationToken cancellationToken)
    {
        var user = await identity.AuthenticateSupporterAsync(context, cancellationToken);
        if (user is null)
        {
            return Unauthorized();
        }

        return TypedResults.Ok(await HostsOfAsync(user, hosts, presence, cancellationToken));
    }

    /// <summary>The unrevoked hosts in the user's groups, with their live status.</summary>
    internal static async Task<List<HostSummary>> HostsOfAsync(User user, IHostStore hosts, HostPresence presence, CancellationToken cancellationToken) =>
        (await hosts.ListAsync(cancellationToken))
            .Where(h => !h.Revoked && user.Groups.Contains(h.Group, StringComparer.OrdinalIgnoreCase))
            .OrderBy(h => h.Name, StringComparer.OrdinalIgnoreCase)
            .Select(h => Summarise(h, presence))
            .ToList();

    internal static HostSummary Summarise(HostRecord host, HostPresence presence)
    {
        var online = presence.Find(host.Id);
        return new HostSummary(
            host.Id, host.Name, host.Group, online is not null, host.LastSeen, host.Os, host.ModuleVersion,
            online?.Hello.Services ?? host.Services, host.Revoked);
    }

    /// <summary>
    /// The host channel as an HTTP request upgraded to a WebSocket (the host module itself opens it
    /// without HTTP, see <see cref="HostChannelEndpoint"/>; both are admitted and served alike).
    /// </summary>
    private static async Task<IResult> HostConnectAsync(
        HttpContext context, HostChannelEndpoint endpoint, HostChannels channels, CancellationToken cancellationToken)
    {
        var (host, refusal) = await endpoint.AdmitAsync(context.Connection.ClientCertificate, context.Connection.RemoteIpAddress, cancellationToken);
        if (host is null)
        {
            return TypedResults.Problem(detail: refusal, statusCode: StatusCodes.Status403Forbidden);
        }

        if (!context.WebSockets.IsWebSocketRequest)
        {
            return TypedResults.Problem(detail: "the host channel is a WebSocket", statusCode: StatusCodes.Status400BadRequest);
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = TimeSpan.Zero });
        using var channel = new ControlChannel(socket);
        await channels.RunAsync(host, channel, Source(context), context.RequestAborted);
        return TypedResults.Empty;
    }

    /// <summary>A new session code; with an address in the body it is also mailed to the customer (the address is checked first).</summary>
    private static async Task<Results<Ok<SessionCodeResponse>, ProblemHttpResult>> CreateCodeAsync(
        [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] SessionCodeRequest? request,
        ModuleIdentity identity, SessionCodes codes, AdHocInvitations invitations, HttpContext context, CancellationToken cancellationToken)
    {
        var user = await identity.AuthenticateSupporterAsync(context, cancellationToken);
        if (user is null)
        {
            return Unauthorized();
        }

        var email = request?.Email?.Trim();
        if (email is not null && !Mailer.IsAddress(email))
        {
            return TypedResults.Problem(detail: $"'{email}' is not a mail address", statusCode: StatusCodes.Status400BadRequest);
        }

        var (code, expires) = await codes.CreateAsync(user, cancellationToken);
        var mail = email is null ? null : await invitations.MailCodeAsync(user, code, expires, email, request!.Language, cancellationToken);
        return TypedResults.Ok(new SessionCodeResponse(code, expires, mail?.Id));
    }

    private static async Task<Results<Ok<List<WaitingRequest>>, ProblemHttpResult>> ListQueueAsync(
        ModuleIdentity identity, AdHocDesk desk, HttpContext context, CancellationToken cancellationToken)
    {
        var user = await identity.AuthenticateSupporterAsync(context, cancellationToken);
        if (user is null)
        {
            return Unauthorized();
        }

        return TypedResults.Ok(QueueOf(user, desk));
    }

    /// <summary>The customer requests waiting for the user (its groups, or no group).</summary>
    internal static List<WaitingRequest> QueueOf(User user, AdHocDesk desk) =>
        desk.WaitingFor(user)
            .Select(c => new WaitingRequest(c.RequestId!, c.Connection.Host.Name, c.RequestText ?? string.Empty, c.Group, c.Since))
            .ToList();

    /// <summary>An ad-hoc customer's control channel: no certificate, no token — its code or request is the first message.</summary>
    private static async Task<IResult> AdHocConnectAsync(HttpContext context, HostChannels channels)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return TypedResults.Problem(detail: "the ad-hoc channel is a WebSocket", statusCode: StatusCodes.Status400BadRequest);
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = TimeSpan.Zero });
        using var channel = new ControlChannel(socket);
        await channels.RunAdHocAsync(channel, context.Connection.RemoteIpAddress, context.RequestAborted);
        return TypedResults.Empty;
    }

    private static async Task<IResult> SessionConnectAsync(
        HttpContext context, ModuleIdentity identity, SessionBroker broker, IOptions<BrokerOptions> options,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var user = await identity.AuthenticateSupporterAsync(context, cancellationToken);
        if (user is null)
        {
            return Unauthorized();
        }

        if (!context.WebSockets.IsWebSocketRequest)
        {
            return TypedResults.Problem(detail: "the session channel is a WebSocket", statusCode: StatusCodes.Status400BadRequest);
        }

        await RunSessionChannelAsync(context, user, broker, options.Value, loggers.CreateLogger(typeof(ModuleApiEndpoints)));
        return TypedResults.Empty;
    }

    /// <summary>A supporter's session channel (module or browser): the broker runs it; a protocol violation closes it with the reason.</summary>
    internal static async Task RunSessionChannelAsync(HttpContext context, User user, SessionBroker broker, BrokerOptions options, ILogger logger)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync(KeepAlive(options));
        using var channel = new ControlChannel(socket);
        try
        {
            await broker.RunSupporterChannelAsync(user, channel, context.RequestAborted);
        }
        catch (ControlProtocolException ex)
        {
            var source = Source(context);
            LogSupporterViolation(logger, user.Name, source, ex.Message);
            using var close = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await channel.CloseAsync(ex.Status, ex.Message, close.Token, awaitPeer: true);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            // The supporter went away; the broker ended the session.
        }
    }

    private static async Task<IResult> RelayAsync(
        HttpContext context, ModuleIdentity identity, RelayRendezvous rendezvous, SessionBroker broker, TimeProvider time,
        ILoggerFactory loggers, IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        if (upgrade is not { IsUpgradableRequest: true }
            || !string.Equals(context.Request.Headers.Upgrade.ToString(), ModuleClient.RelayUpgradeToken, StringComparison.OrdinalIgnoreCase))
        {
            return TypedResults.Problem(detail: $"a relay stream is an HTTP/1.1 Upgrade to {ModuleClient.RelayUpgradeToken}", statusCode: StatusCodes.Status400BadRequest);
        }

        var logger = loggers.CreateLogger(typeof(ModuleApiEndpoints));
        if (await AuthenticateRelayAsync(context, identity, cancellationToken) is not var (side, identityName))
        {
            return Unauthorized();
        }

        var checkedAt = time.GetTimestamp();

        // Framed streams, one after another on this connection, when the module asks and the relay reads the TLS stream itself.
        var tls = RelayedTls(context);
        var framed = tls is not null
            && string.Equals(context.Request.Headers[ModuleClient.RelayFramingHeader], ModuleClient.RelayFramingVersion, StringComparison.Ordinal);
        if (framed)
        {
            context.Response.Headers[ModuleClient.RelayFramingHeader] = ModuleClient.RelayFramingVersion;
        }

        // The ticket follows the upgrade in-band (never in a URL or header a log could keep), so a
        // module can keep a spare upgraded connection and claim it when it needs a stream.
        await using var duplex = await upgrade.UpgradeAsync();
        var connection = tls ?? duplex;
        // The first claim comes through Kestrel's upgraded stream; once the relay has the TLS stream, later claims are read there.
        var claims = duplex;
        while (true)
        {
            var claimed = await ReadClaimAsync(context, claims, identityName, logger, lifetime);
            if (claimed is null)
            {
                return TypedResults.Empty;
            }

            if (claims != duplex && time.GetElapsedTime(checkedAt) >= ReusedConnectionCheck)
            {
                if (await AuthenticateRelayAsync(context, identity, context.RequestAborted) != (side, identityName))
                {
                    // Revoked, disabled or signed out since the connection's identity was last checked: it carries no more.
                    LogClaimViolation(logger, identityName, Source(context), "the identity of a reused relay connection is no longer valid");
                    await TryAnswerAsync(claims, RelayClaim.Refusal("this connection's identity is no longer valid"), context.RequestAborted);
                    return TypedResults.Empty;
                }

                checkedAt = time.GetTimestamp();
            }

            var half = framed ? new FramedRelayStream(connection) : connection;
            var carried = claimed.Ticket is { } ticket
                ? await ClaimedHalfAsync(context, claims, half, side, identityName, ticket, rendezvous, time, logger)
                : await RequestedStreamAsync(context, claims, half, side, identityName, claimed, broker, logger);
            if (!carried || half is not FramedRelayStream { IsReusable: true })
            {
                return TypedResults.Empty;
            }

            claims = connection;
        }
    }

    /// <summary>
    /// How old the last check of a reused relay connection's identity may be at its next claim. Checking at every claim
    /// (a token, a user, the sign-in networks and groups, or a host record read from the database) was a sixth of the
    /// server's CPU per stream back to back; an unclaimed spare waits up to 120 s after its only check anyway.
    /// </summary>
    private static readonly TimeSpan ReusedConnectionCheck = TimeSpan.FromSeconds(5);

    /// <summary>Who opened a relay connection: an enrolled host (its certificate), an ad-hoc customer (relay key) or a signed-in supporter (bearer token).</summary>
    private static async Task<(RelaySide Side, string Identity)?> AuthenticateRelayAsync(HttpContext context, ModuleIdentity identity, CancellationToken cancellationToken)
    {
        if (await identity.AuthenticateHostAsync(context, cancellationToken) is { } host)
        {
            return (RelaySide.Host, host.Id);
        }

        if (identity.AuthenticateAdHocHost(context) is { } customer)
        {
            return (RelaySide.Host, customer.Connection.Host.Id);
        }

        return await identity.AuthenticateSupporterAsync(context, cancellationToken) is { } supporter ? (RelaySide.Supporter, supporter.Name) : null;
    }

    /// <summary>The next claim line on a relay connection; null when the connection closed, timed out unclaimed, the server stops or the line broke the protocol.</summary>
    private static async Task<RelayClaimLine?> ReadClaimAsync(HttpContext context, Stream claims, string identityName, ILogger logger, IHostApplicationLifetime lifetime)
    {
        // An unclaimed spare is worth nothing once the server stops: it must not hold up the shutdown.
        using var claim = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        claim.CancelAfter(RelayOpener.ServerSpareTimeout);
        try
        {
            return await RelayClaim.ReadClaimAsync(claims, claim.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // An unclaimed spare timed out, the module went away, or the line was garbage.
            if (ex is RelayClaimException violation)
            {
                LogClaimViolation(logger, identityName, Source(context), violation.Message);
            }

            return null;
        }
    }

    /// <summary>A half claimed with a ticket: a host's is handed to the stream's pump, a supporter's runs it. True when the half carried the stream.</summary>
    private static async Task<bool> ClaimedHalfAsync(
        HttpContext context, Stream claims, Stream relayed, RelaySide side, string identityName, string ticket, RelayRendezvous rendezvous, TimeProvider time, ILogger logger)
    {
        var taken = rendezvous.Take(ticket, side, identityName, time.GetUtcNow());
        if (taken is not { } half)
        {
            LogTicketRefused(logger, identityName, Source(context));
            await TryAnswerAsync(claims, RelayClaim.Refusal(RelayClaim.TicketRefused), context.RequestAborted);
            return false;
        }

        if (!await TryAnswerAsync(claims, RelayClaim.Accepted, context.RequestAborted))
        {
            half.Stream.Fail("the module went away while claiming its half");
            return false;
        }

        var stream = half.Stream;
        if (side == RelaySide.Host)
        {
            stream.OfferHostHalf(relayed);
            try
            {
                await stream.Finished.WaitAsync(stream.SessionEnded);
            }
            catch (OperationCanceledException)
            {
                // Session ended: the pump on the supporter's side stops too. Its last read or write on this
                // connection must be over before the request ends (Kestrel then completes the connection's pipes
                // under the TLS stream), so wait for it to say so — briefly, as a half that was never paired has
                // no pump to wait for.
                await Task.WhenAny(stream.Finished, Task.Delay(HostHalfGrace, CancellationToken.None));
                return false;
            }

            return true;
        }

        return await SupporterHalf.RunAsync(stream, relayed, logger, context.RequestServices.GetRequiredService<ScreenRecordings>()) is not null;
    }

    /// <summary>
    /// A supporter's stream asked for on the relay connection itself: the broker checks the session and its rights as
    /// for a request on the session's channel and asks the host for its half; this connection is the supporter's half.
    /// True when it carried the stream.
    /// </summary>
    private static async Task<bool> RequestedStreamAsync(
        HttpContext context, Stream claims, Stream relayed, RelaySide side, string identityName, RelayClaimLine claimed, SessionBroker broker, ILogger logger)
    {
        if (side != RelaySide.Supporter)
        {
            LogClaimViolation(logger, identityName, Source(context), "a host asked for a stream");
            await TryAnswerAsync(claims, RelayClaim.Refusal("only a supporter asks for streams; a host claims its half with a ticket"), context.RequestAborted);
            return false;
        }

        var (stream, refusal) = await broker.OpenStreamInBandAsync(identityName, claimed.SessionId!, claimed.Service!, context.RequestAborted);
        if (stream is null)
        {
            LogStreamRequestRefused(logger, claimed.SessionId!, claimed.Service!, identityName, Source(context), refusal!);
            await TryAnswerAsync(claims, RelayClaim.Refusal(refusal!), context.RequestAborted);
            return false;
        }

        if (!await TryAnswerAsync(claims, RelayClaim.Accepted, context.RequestAborted))
        {
            stream.Fail("the supporter went away while asking for the stream");
            return false;
        }

        return await SupporterHalf.RunAsync(stream, relayed, logger, context.RequestServices.GetRequiredService<ScreenRecordings>()) is not null;
    }

    /// <summary>
    /// What the relay reads and writes once a half is claimed: the connection's TLS stream itself when there is one, so
    /// that the bytes skip Kestrel's HTTP layer and its pipes; null when there is none (then the upgraded stream, and
    /// one stream per connection). A framed connection's later claim lines are read there too.
    /// </summary>
    /// <remarks>
    /// Kestrel reads and writes an upgraded stream one 4 KiB pool block at a time, through two pipes: each block is
    /// copied twice more and goes out as a TLS record of its own. Past the claim nothing else uses the connection:
    /// Kestrel reads its pipe only when the upgraded stream is read (after a 101 it reads no next request), the answer
    /// was flushed through to the TLS stream before this, and the module sends nothing after its claim line until the answer
    /// — a claim line is shorter than the line limit, so anything that came in the same read broke the claim, and
    /// Kestrel's buffer is empty. So the relay takes the TLS stream over: up to 16 KiB per record, decrypted straight
    /// into the relay's buffer. Kestrel still owns the connection and closes it when the request ends, so neither half's
    /// request may end while the pump still reads or writes it. Only HTTP/1.1 (an HTTP/2 connection's TLS stream is
    /// shared by all its requests), and connection middleware after TLS would be bypassed (there is none).
    /// </remarks>
    private static SslStream? RelayedTls(HttpContext context) =>
        HttpProtocol.IsHttp11(context.Request.Protocol) ? context.Features.Get<ISslStreamFeature>()?.SslStream : null;

    /// <summary>How long a host half outlives its session while the relay pump lets go of it (it stops within 5 s).</summary>
    private static readonly TimeSpan HostHalfGrace = TimeSpan.FromSeconds(10);

    private static Task<bool> TryAnswerAsync(Stream duplex, byte answer, CancellationToken cancellationToken) =>
        TryAnswerAsync(duplex, new[] { answer }, cancellationToken);

    private static async Task<bool> TryAnswerAsync(Stream duplex, byte[] answer, CancellationToken cancellationToken)
    {
        try
        {
            await duplex.WriteAsync(answer, cancellationToken);
            await duplex.FlushAsync(cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }
    }

    private static WebSocketAcceptContext KeepAlive(BrokerOptions options) => new()
    {
        KeepAliveInterval = TimeSpan.FromSeconds(options.HeartbeatSeconds),
        KeepAliveTimeout = TimeSpan.FromSeconds(options.HeartbeatSeconds * 2),
    };

    private static ProblemHttpResult Unauthorized() =>
        TypedResults.Problem(detail: "sign in first (privateserver-supporter login)", statusCode: StatusCodes.Status401Unauthorized);

    internal static string Source(HttpContext context) => Source(context.Connection.RemoteIpAddress);

    /// <summary>A client address as logs and the audit trail show it.</summary>
    internal static string Source(IPAddress? address) => address?.ToString() ?? IPAddress.None.ToString();

    [LoggerMessage(EventId = 3203, Level = LogLevel.Warning, Message = "A relay ticket presented by {Identity} from {Source} was refused")]
    private static partial void LogTicketRefused(ILogger logger, string identity, string source);

    [LoggerMessage(EventId = 3208, Level = LogLevel.Warning, Message = "A stream of session {SessionId} to {Service} asked for by {Identity} from {Source} was refused: {Reason}")]
    private static partial void LogStreamRequestRefused(ILogger logger, string sessionId, string service, string identity, string source, string reason);

    [LoggerMessage(EventId = 3205, Level = LogLevel.Warning, Message = "A relay connection of {Identity} from {Source} broke the claim protocol: {Problem}")]
    private static partial void LogClaimViolation(ILogger logger, string identity, string source, string problem);

    [LoggerMessage(EventId = 3204, Level = LogLevel.Warning, Message = "Supporter {UserName} from {Source} broke the session protocol: {Problem}")]
    private static partial void LogSupporterViolation(ILogger logger, string userName, string source, string problem);
}
