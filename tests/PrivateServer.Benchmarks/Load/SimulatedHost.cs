using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PrivateServer.Protocol.Api;
using PrivateServer.Protocol.Control;
using PrivateServer.Protocol.Relay;
using PrivateServer.Protocol.Transport;
using PrivateServer.Protocol.Trust;

namespace PrivateServer.Benchmarks.Load;

/// <summary>
/// One enrolled host with its own key and client certificate, speaking the real module protocol
/// (PrivateServer.Protocol: TLS with the module name and pinned CA, the control channel, hello,
/// heartbeats, relay streams) — many of them run in one load process. It accepts every session
/// (the bench group consents automatically) and opens granted streams to a local echo service.
/// </summary>
internal sealed class SimulatedHost : IAsyncDisposable
{
    private readonly Uri _server;
    private readonly CaPin _pin;
    private readonly X509Certificate2 _ca;
    private readonly X509Certificate2 _certificate;
    private readonly TaskCompletionSource _online = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, bool> _sessions = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private Task _running = Task.CompletedTask;

    private SimulatedHost(Uri server, CaPin pin, X509Certificate2 ca, X509Certificate2 certificate, string hostId)
    {
        _server = server;
        _pin = pin;
        _ca = ca;
        _certificate = certificate;
        HostId = hostId;
    }

    public string HostId { get; }

    /// <summary>The heartbeat interval the server asked for in its welcome.</summary>
    public int HeartbeatSeconds { get; private set; }

    /// <summary>Completes when the server welcomed this host.</summary>
    public Task Online => _online.Task;

    /// <summary>Enrols like <c>privateserver-host enroll</c>: a P-256 key made here, a CSR, the token.</summary>
    public static async Task<SimulatedHost> EnrollAsync(Uri server, CaPin pin, X509Certificate2 ca, string token, string name, CancellationToken cancellationToken)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
        using var client = new ModuleClient(server, pin, ca, clientCertificate: null, proxy: null);
        var response = await client.PostAsync(
            "api/v1/enroll", new EnrollRequest(token, name, request.CreateSigningRequestPem()),
            ProtocolJson.Default.EnrollRequest, ProtocolJson.Default.EnrollResponse, bearer: null, cancellationToken);
        using var issued = X509Certificate2.CreateFromPem(response.CertificatePem);
        using var withKey = issued.CopyWithPrivateKey(key);
        // Through PKCS#12, as a host module keeps it: a certificate whose key SslStream can use on every platform.
        var certificate = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), password: null);
        return new SimulatedHost(server, pin, ca, certificate, response.HostId);
    }

    /// <summary>Connects and serves in the background until disposed; <paramref name="echoPort"/> is the "echo" service.</summary>
    public void Start(int echoPort) => _running = RunAsync(echoPort, _stopping.Token);

    private async Task RunAsync(int echoPort, CancellationToken cancellationToken)
    {
        try
        {
            using var client = new ModuleClient(_server, _pin, _ca, _certificate, proxy: null);
            await using var relays = new RelayOpener(client, bearer: null);
            using var channel = await client.ConnectHostChannelAsync(cancellationToken);
            await channel.SendAsync(new HostHello(HostId, "bench", "bench", ["echo"]), cancellationToken);
            if (await channel.ReceiveAsync(cancellationToken) is not Welcome welcome)
            {
                throw new IOException("the server did not welcome the host");
            }

            HeartbeatSeconds = welcome.HeartbeatSeconds;
            _online.TrySetResult();
            using var beats = new PeriodicTimer(TimeSpan.FromSeconds(welcome.HeartbeatSeconds));
            var beating = BeatAsync(channel, beats, cancellationToken);
            while (await channel.ReceiveAsync(cancellationToken) is { } message)
            {
                switch (message)
                {
                    case SessionRequest request:
                        _sessions[request.SessionId] = true;
                        relays.KeepSpare(true);
                        await channel.SendAsync(new SessionAnswer(request.SessionId, true, request.Permissions, null), cancellationToken);
                        break;
                    case StreamOpen open when _sessions.ContainsKey(open.SessionId):
                        _ = RelayAsync(relays, open, echoPort, cancellationToken);
                        break;
                    case SessionEnded ended:
                        _sessions.TryRemove(ended.SessionId, out _);
                        relays.KeepSpare(!_sessions.IsEmpty);
                        break;
                    default:
                        break;
                }
            }

            beats.Dispose();
            await beating;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or WebSocketException)
        {
            _online.TrySetException(ex);
        }
    }

    private static async Task BeatAsync(ControlChannel channel, PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await channel.SendAsync(new Heartbeat(), cancellationToken);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            // The channel ended.
        }
    }

    private static async Task RelayAsync(RelayOpener relays, StreamOpen open, int echoPort, CancellationToken cancellationToken)
    {
        try
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            var opening = relays.OpenAsync(open.Ticket, cancellationToken);
            await socket.ConnectAsync(IPAddress.Loopback, echoPort, cancellationToken);
            await using var local = new NetworkStream(socket, ownsSocket: false);
            await using var relay = await opening;
            await RelayPump.RunAsync(relay, local, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
        {
            // The stream failed or the session ended: the supporter's side reports it.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _running;
        _certificate.Dispose();
        _stopping.Dispose();
    }
}
