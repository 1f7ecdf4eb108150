using System.Globalization;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using PrivateServer.HostModule.Resources;
using PrivateServer.Protocol;
using PrivateServer.Protocol.Control;
using PrivateServer.Protocol.Sessions;
using PrivateServer.Protocol.Transport;
using PrivateServer.Protocol.Trust;

namespace PrivateServer.HostModule.Agent;

/// <summary>What an ad-hoc customer joins with: a supporter's session code, or a request for the waiting queue.</summary>
internal sealed record AdHocTicket(string? Code, string? Request, string? Group);

/// <summary>
/// A customer's one session without installing anything (<c>privateserver-host join</c>): no
/// certificate, no state — the CA is pinned by fingerprint and kept in memory, the relay halves
/// present a key the server gave this connection only. Consent is always asked, with the support
/// terms; when the session ends (or is refused) the program ends and nothing can reconnect.
/// </summary>
internal sealed class AdHocAgent : IDisposable
{
    private readonly Uri _server;
    private readonly CaPin _pin;
    private readonly Uri? _proxy;
    private readonly string _name;
    private readonly AdHocTicket _ticket;
    private readonly IReadOnlyDictionary<string, ServiceTarget> _services;
    private readonly HostSessions _sessions;

    public AdHocAgent(Uri server, CaPin pin, Uri? proxy, string name, AdHocTicket ticket, IEnumerable<ServiceTarget> services, TextReader input, TextWriter output)
    {
        _server = server;
        _pin = pin;
        _proxy = proxy;
        _name = name;
        _ticket = ticket;
        _services = services.ToDictionary(s => s.Name, StringComparer.Ordinal);
        _sessions = new HostSessions(_services, input, output, alwaysAsk: true);
    }

    /// <summary>Joins, serves the one session, and returns when it is over; throws (one line) when no session came about.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        _ = _sessions.Terminal.RunAsync(cancellationToken);
        try
        {
            using var ca = await ModuleClient.FetchCaAsync(_server, _pin, _proxy, cancellationToken);
            using var client = new ModuleClient(_server, _pin, ca, null, _proxy);
            using var channel = await client.ConnectControlAsync("api/v1/adhoc/connect", bearer: null, ModuleTimings.HostKeepAlive, cancellationToken);
            var welcome = await JoinAsync(channel, cancellationToken);
            var until = welcome.WaitsUntil.ToLocalTime().ToString("t", CultureInfo.CurrentCulture);
            _sessions.Terminal.Say(welcome.RequestId is null
                ? HostText.JoinedWithCode(_server.Authority, welcome.Supporter ?? "?", until)
                : HostText.JoinedWithRequest(welcome.RequestId, until));
            _sessions.Terminal.Say(HostText.Offering(HostAgent.DescribeServices(_services.Values)));
            await using var relays = new RelayOpener(client, welcome.RelayKey);
            var reason = await _sessions.ServeAsync(channel, relays, TimeSpan.FromSeconds(Math.Max(2, welcome.HeartbeatSeconds)), oneSession: true, cancellationToken);
            switch (_sessions.Outcome)
            {
                case OneSessionOutcome.Ended:
                    _sessions.Terminal.Say(HostText.AdHocEnded);
                    return;
                case OneSessionOutcome.Refused:
                    _sessions.Terminal.Say(HostText.YouRefused);
                    return;
                default:
                    throw new IOException(HostText.NotTaken(reason));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _sessions.EndAllSessions(null);
            _sessions.Terminal.Say(HostText.Stopped);
        }
    }

    private async Task<AdHocWelcome> JoinAsync(ControlChannel channel, CancellationToken cancellationToken)
    {
        await channel.SendAsync(
            new AdHocJoin(
                _ticket.Code, _ticket.Request, _ticket.Group, _name, RuntimeInformation.OSDescription,
                ProtocolInfo.ProductVersion(typeof(AdHocAgent).Assembly), [.. _services.Keys.Order(StringComparer.Ordinal), SessionPermissions.SystemInfoService]),
            cancellationToken);
        using var first = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        first.CancelAfter(TimeSpan.FromSeconds(30));
        return await channel.ReceiveAsync(first.Token) switch
        {
            AdHocWelcome welcome => welcome,
            ChannelError error => throw new IOException(error.Message),
            null => throw new IOException("the server closed the connection"),
            var other => throw new ControlProtocolException(WebSocketCloseStatus.PolicyViolation, $"unexpected {other.GetType().Name} from the server"),
        };
    }

    public void Dispose() => _sessions.Dispose();
}
