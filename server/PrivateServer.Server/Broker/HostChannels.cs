using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrivateServer.Protocol.Control;
using PrivateServer.Protocol.Sessions;
using PrivateServer.Server.Hosts;

namespace PrivateServer.Server.Broker;

/// <summary>
/// Runs the control channel of an online host: hello, heartbeats, answers, emergency stops. A host
/// silent for three heartbeat intervals, or one that breaks the protocol, is dropped; everyone
/// else keeps being served.
/// </summary>
public sealed partial class HostChannels(
    HostPresence presence, SessionBroker broker, IHostStore hosts, IOptions<BrokerOptions> options, TimeProvider time, ILogger<HostChannels> logger)
{
    private const int MaximumServices = 32;
    private static readonly TimeSpan LastSeenInterval = TimeSpan.FromMinutes(5);

    public async Task RunAsync(HostRecord host, ControlChannel channel, string source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(channel);
        var heartbeat = TimeSpan.FromSeconds(options.Value.HeartbeatSeconds);
        HostConnection? connection = null;
        try
        {
            HostHello hello;
            using (var first = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                first.CancelAfter(heartbeat * 3);
                var message = await channel.ReceiveAsync(first.Token);
                if (message is null)
                {
                    return;
                }

                hello = message as HostHello ?? throw new ControlProtocolException(WebSocketCloseStatus.PolicyViolation, "a host channel starts with hello");
                var services = hello.Services ?? [];
                if (services.Count > MaximumServices || services.Any(s => !SessionPermissions.IsValidServiceName(s)))
                {
                    throw new ControlProtocolException(WebSocketCloseStatus.PolicyViolation, "the hello names an invalid service or too many");
                }

                hello = hello with { Services = services.Distinct(StringComparer.Ordinal).ToList(), Os = Clip(hello.Os), ModuleVersion = Clip(hello.ModuleVersion) };
            }

            connection = new HostConnection(host, hello, channel, cancellationToken);
            await hosts.UpdatePresenceAsync(host.Id, time.GetUtcNow(), hello.Os, hello.ModuleVersion, hello.Services, cancellationToken);
            presence.Register(connection);
            var offered = string.Join(",", hello.Services);
            LogOnline(logger, host.Name, host.Id, source, offered);
            await channel.SendAsync(new Welcome(host.Id, host.Name, options.Value.HeartbeatSeconds), connection.Closed);

            var lastRecorded = time.GetUtcNow();
            using var silence = new SilenceWatchdog(connection.Closed);
            while (true)
            {
                ControlMessage? message;
                try
                {
                    message = await channel.ReceiveAsync(silence.Arm(heartbeat * 3));
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
                    // Online hosts are shown from presence; "last seen" is written when a host goes
                    // offline and otherwise only now and then, not on every heartbeat of every host.
                    if (now - lastRecorded >= LastSeenInterval)
                    {
                        lastRecorded = now;
                        await hosts.UpdatePresenceAsync(host.Id, now, null, null, null, connection.Closed);
                    }

                    await channel.SendAsync(new Heartbeat(), connection.Closed);
                }
                else
                {
                    await broker.OnHostMessageAsync(connection, message);
                }
            }
        }
        catch (ControlProtocolException ex)
        {
            LogProtocolViolation(logger, host.Name, host.Id, source, ex.Message);
            using var close = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await channel.CloseAsync(ex.Status, ex.Message, close.Token, awaitPeer: true);
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

    private static string Clip(string? text) => text is null ? string.Empty : text.Length <= 128 ? text : text[..128];

    [LoggerMessage(EventId = 3010, Level = LogLevel.Information, Message = "Host {HostName} ({HostId}) online from {Source}, services {Services}")]
    private static partial void LogOnline(ILogger logger, string hostName, string hostId, string source, string services);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Information, Message = "Host {HostName} ({HostId}) offline: {Reason}")]
    private static partial void LogOffline(ILogger logger, string hostName, string hostId, string reason);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Warning, Message = "Host {HostName} ({HostId}) from {Source} broke the control protocol: {Problem}")]
    private static partial void LogProtocolViolation(ILogger logger, string hostName, string hostId, string source, string problem);
}
