using System.Net;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrivateServer.Protocol.Control;
using PrivateServer.Protocol.Sessions;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.AdHoc;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Hosts;
using PrivateServer.Server.Settings;

namespace PrivateServer.Server.Broker;

/// <summary>
/// Runs the control channel of an online host — an enrolled one (hello) or an ad-hoc customer
/// (join with a code or a request) — heartbeats (every second one answered), answers, emergency
/// stops. A host silent for three heartbeat intervals, or one that breaks the protocol, is dropped;
/// everyone else keeps being served.
/// </summary>
public sealed partial class HostChannels(
    HostPresence presence,
    SessionBroker broker,
    IHostStore hosts,
    IGroupStore groups,
    SessionCodes codes,
    AdHocDesk desk,
    IOptions<BrokerOptions> options,
    IOptions<AdHocOptions> adHocOptions,
    SettingsService settings,
    TimeProvider time,
    ILogger<HostChannels> logger)
{
    private const int MaximumServices = 32;
    private const int MaximumRequestText = 300;
    private static readonly TimeSpan LastSeenInterval = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan RefusalTimeout = TimeSpan.FromSeconds(2);

    private TimeSpan Heartbeat => TimeSpan.FromSeconds(options.Value.HeartbeatSeconds);

    /// <summary>Serves an enrolled host (authenticated by its certificate) until its channel ends.</summary>
    public async Task RunAsync(HostRecord host, ControlChannel channel, string source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(channel);
        HostConnection? connection = null;
        try
        {
            var hello = await ReceiveFirstAsync<HostHello>(channel, "a host channel starts with hello", cancellationToken);
            if (hello is null)
            {
                return;
            }

            hello = hello with { Services = CheckServices(hello.Services), Os = Clip(hello.Os), ModuleVersion = Clip(hello.ModuleVersion) };
            connection = new HostConnection(host, hello, channel, cancellationToken);
            await hosts.UpdatePresenceAsync(host.Id, time.GetUtcNow(), hello.Os, hello.ModuleVersion, hello.Services, cancellationToken);
            presence.Register(connection);
            var offered = string.Join(",", hello.Services);
            LogOnline(logger, host.Name, host.Id, source, offered);
            await channel.SendAsync(new Welcome(host.Id, host.Name, options.Value.HeartbeatSeconds), connection.Closed);

            var lastRecorded = time.GetUtcNow();
            await ServeAsync(connection, async now =>
            {
                // Online hosts are shown from presence; "last seen" is written when a host goes
                // offline and otherwise only now and then, not on every heartbeat of every host.
                if (now - lastRecorded >= LastSeenInterval)
                {
                    lastRecorded = now;
                    await hosts.UpdatePresenceAsync(host.Id, now, null, null, null, connection.Closed);
                }
            });
        }
        catch (ControlProtocolException ex)
        {
            LogProtocolViolation(logger, host.Name, host.Id, source, ex.Message);
            await CloseAsync(channel, ex.Status, ex.Message);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            // Network loss, revocation or shutdown: the finally block cleans up.
        }
        finally
        {
            if (connection is not null)
            {
                connection.Close("the host went offline");
                presence.Unregister(connection);
                await hosts.UpdatePresenceAsync(host.Id, time.GetUtcNow(), null, null, null, CancellationToken.None);
                LogOffline(logger, host.Name, host.Id, connection.CloseReason ?? "closed");
                connection.Dispose();
            }
        }
    }

    /// <summary>
    /// Serves an ad-hoc customer (no certificate): it joins with a session code (checked against the
    /// guessing limits) or with a request for the queue, gets one session, and is gone when its channel ends.
    /// </summary>
    public async Task RunAdHocAsync(ControlChannel channel, IPAddress? source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var from = source?.ToString() ?? IPAddress.None.ToString();
        AdHocCustomer? customer = null;
        try
        {
            var join = await ReceiveFirstAsync<AdHocJoin>(channel, "an ad-hoc channel starts with adhoc.join", cancellationToken);
            if (join is null)
            {
                return;
            }

            if ((join.Code is null) == (join.Request is null))
            {
                throw new ControlProtocolException(WebSocketCloseStatus.PolicyViolation, "an ad-hoc join names either a code or a request");
            }

            var services = CheckServices(join.Services);
            var (code, request, group, refusal) = join.Code is not null
                ? await RedeemAsync(join.Code, source, cancellationToken)
                : await CheckRequestAsync(join.Request!, join.Group, cancellationToken);
            if (refusal is not null)
            {
                await channel.SendAsync(new ChannelError(refusal), cancellationToken);
                await CloseAsync(channel, WebSocketCloseStatus.PolicyViolation, "refused");
                return;
            }

            var now = time.GetUtcNow();
            var name = Clip(join.Name) is { Length: > 0 } given ? given : "customer";
            var record = new HostRecord("ah-" + SecretToken.New()[..16], name, group ?? string.Empty, string.Empty, string.Empty, now, now, Clip(join.Os), Clip(join.ModuleVersion), services, null);
            var connection = new HostConnection(record, new HostHello(name, record.Os!, record.ModuleVersion!, services), channel, cancellationToken, adHoc: true);
            var relayKey = "ah." + SecretToken.New();
            var requestId = request is null ? null : "rq-" + SecretToken.New()[..10];
            customer = new AdHocCustomer(
                connection, SecretToken.Hash(relayKey), code, requestId, request, group, from, now);
            var wait = code is null ? adHocOptions.Value.RequestLifetime : (await settings.CurrentAsync(cancellationToken)).CodeLifetime;
            // The welcome goes out before the customer is at the desk: a supporter waiting for this code sends the
            // session request at once, and the customer's module must have its welcome first.
            await channel.SendAsync(
                new AdHocWelcome(record.Id, relayKey, options.Value.HeartbeatSeconds, code?.Supporter, requestId, now + wait), connection.Closed);
            desk.Arrive(customer);
            var offered = string.Join(",", services);
            LogCustomerWaiting(logger, name, record.Id, from, customer.Via, code?.Supporter ?? group ?? "all supporters", offered);
            _ = CloseUntakenAsync(customer, wait);
            await ServeAsync(connection, null);
            // The customer closed its channel (its session is over): complete the close handshake.
            await CloseAsync(channel, WebSocketCloseStatus.NormalClosure, "goodbye");
        }
        catch (ControlProtocolException ex)
        {
            LogAdHocViolation(logger, from, ex.Message);
            await CloseAsync(channel, ex.Status, ex.Message);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            // The customer went away or the server stops: the finally block cleans up.
        }
        finally
        {
            if (customer is not null)
            {
                var connection = customer.Connection;
                connection.Close("the customer left");
                desk.Leave(customer);
                LogCustomerGone(logger, connection.Host.Name, connection.Host.Id, connection.CloseReason ?? "closed");
                connection.Dispose();
            }
        }
    }

    private async Task<(SessionCodeRecord? Code, string? Request, string? Group, string? Refusal)> RedeemAsync(
        string code, IPAddress? source, CancellationToken cancellationToken)
    {
        var (redeemed, refusal) = await codes.RedeemAsync(code, source, cancellationToken);
        return (redeemed, null, null, refusal);
    }

    private async Task<(SessionCodeRecord? Code, string? Request, string? Group, string? Refusal)> CheckRequestAsync(
        string text, string? groupName, CancellationToken cancellationToken)
    {
        var clean = new string(text.Where(c => !char.IsControl(c)).ToArray()).Trim();
        if (clean.Length == 0 || clean.Length > MaximumRequestText)
        {
            return (null, null, null, $"a request is 1 to {MaximumRequestText} characters of text, e.g. \"Name: what does not work\"");
        }

        Group? group = null;
        if (!string.IsNullOrWhiteSpace(groupName) && (group = await groups.FindAsync(groupName.Trim(), cancellationToken)) is null)
        {
            return (null, null, null, $"there is no support queue '{Clip(groupName)}'");
        }

        return desk.WaitingCount >= adHocOptions.Value.MaximumWaitingRequests
            ? (null, null, null, "the support queue is full; please call your supporter")
            : (null, clean, group?.Name, null);
    }

    /// <summary>An ad-hoc customer nobody took in time is told so and let go.</summary>
    private async Task CloseUntakenAsync(AdHocCustomer customer, TimeSpan wait)
    {
        var connection = customer.Connection;
        try
        {
            await customer.Taken.WaitAsync(wait, time, connection.Closed);
        }
        catch (TimeoutException)
        {
            using var notify = new CancellationTokenSource(RefusalTimeout);
            await connection.Channel.TrySendAsync(new ChannelError("no supporter took the session in time"), notify.Token);
            connection.Close("no supporter took the session in time");
        }
        catch (OperationCanceledException)
        {
            // The customer left first.
        }
    }

    /// <summary>Heartbeats (every second one answered) and session messages (to the broker) until the channel ends or falls silent.</summary>
    private async Task ServeAsync(HostConnection connection, Func<DateTimeOffset, Task>? onHeartbeat)
    {
        var channel = connection.Channel;
        using var silence = new SilenceWatchdog(connection.Closed);
        // The welcome just went out. A host gives up on a server silent for three intervals; answering a
        // heartbeat only when the last answer is 1.5 intervals old (every second one) stays well inside
        // that and halves what thousands of idle hosts cost the server in sends.
        var lastAnswer = time.GetUtcNow();
        while (true)
        {
            ControlMessage? message;
            try
            {
                message = await channel.ReceiveAsync(silence.Arm(Heartbeat * 3));
            }
            catch (OperationCanceledException) when (!connection.Closed.IsCancellationRequested)
            {
                connection.Close("the host stopped sending heartbeats");
                return;
            }

            if (message is null)
            {
                return;
            }

            if (message is Heartbeat)
            {
                var now = time.GetUtcNow();
                if (onHeartbeat is not null)
                {
                    await onHeartbeat(now);
                }

                if (now - lastAnswer >= Heartbeat * 1.5)
                {
                    lastAnswer = now;
                    await channel.SendAsync(new Heartbeat(), connection.Closed);
                }
            }
            else
            {
                await broker.OnHostMessageAsync(connection, message);
            }
        }
    }

    private async Task<T?> ReceiveFirstAsync<T>(ControlChannel channel, string expectation, CancellationToken cancellationToken)
        where T : ControlMessage
    {
        using var first = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        first.CancelAfter(Heartbeat * 3);
        var message = await channel.ReceiveAsync(first.Token);
        return message is null ? null : message as T ?? throw new ControlProtocolException(WebSocketCloseStatus.PolicyViolation, expectation);
    }

    private static List<string> CheckServices(IReadOnlyList<string>? services)
    {
        services ??= [];
        if (services.Count > MaximumServices || services.Any(s => !SessionPermissions.IsValidServiceName(s)))
        {
            throw new ControlProtocolException(WebSocketCloseStatus.PolicyViolation, "the hello names an invalid service or too many");
        }

        return services.Distinct(StringComparer.Ordinal).ToList();
    }

    private static async Task CloseAsync(ControlChannel channel, WebSocketCloseStatus status, string reason)
    {
        using var close = new CancellationTokenSource(RefusalTimeout);
        await channel.CloseAsync(status, reason, close.Token, awaitPeer: true);
    }

    private static string Clip(string? text)
    {
        var clean = text is null ? string.Empty : new string(text.Where(c => !char.IsControl(c)).ToArray()).Trim();
        return clean.Length <= 128 ? clean : clean[..128];
    }

    [LoggerMessage(EventId = 3010, Level = LogLevel.Information, Message = "Host {HostName} ({HostId}) online from {Source}, services {Services}")]
    private static partial void LogOnline(ILogger logger, string hostName, string hostId, string source, string services);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Information, Message = "Host {HostName} ({HostId}) offline: {Reason}")]
    private static partial void LogOffline(ILogger logger, string hostName, string hostId, string reason);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Warning, Message = "Host {HostName} ({HostId}) from {Source} broke the control protocol: {Problem}")]
    private static partial void LogProtocolViolation(ILogger logger, string hostName, string hostId, string source, string problem);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Information, Message = "Ad-hoc customer {HostName} ({HostId}) from {Source} joined with a {Via} for {Whom}, services {Services}")]
    private static partial void LogCustomerWaiting(ILogger logger, string hostName, string hostId, string source, AdHocVia via, string whom, string services);

    [LoggerMessage(EventId = 3014, Level = LogLevel.Information, Message = "Ad-hoc customer {HostName} ({HostId}) gone: {Reason}")]
    private static partial void LogCustomerGone(ILogger logger, string hostName, string hostId, string reason);

    [LoggerMessage(EventId = 3015, Level = LogLevel.Warning, Message = "An ad-hoc customer from {Source} broke the control protocol: {Problem}")]
    private static partial void LogAdHocViolation(ILogger logger, string source, string problem);
}
