using System.Globalization;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using PrivateServer.HostModule.Resources;
using PrivateServer.Protocol;
using PrivateServer.Protocol.Control;
using PrivateServer.Protocol.Sessions;
using PrivateServer.Protocol.Transport;
using PrivateServer.Protocol.Trust;

namespace PrivateServer.HostModule.Agent;

/// <summary>
/// The installed host's life: keep one control channel to the server (reconnecting with
/// exponential backoff and jitter) and serve its sessions (<see cref="HostSessions"/>) on it.
/// </summary>
internal sealed class HostAgent : IDisposable
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(60);

    private readonly Uri _server;
    private readonly CaPin _pin;
    private readonly X509Certificate2 _ca;
    private readonly X509Certificate2 _certificate;
    private readonly Uri? _proxy;
    private readonly string _name;
    private readonly IReadOnlyDictionary<string, ServiceTarget> _services;
    private readonly HostSessions _sessions;
    private readonly FileRoot? _files;

    /// <summary>An enrolled host (its identity and pinned CA) that offers <paramref name="services"/> and, with <paramref name="files"/>, a shared folder.</summary>
    public HostAgent(
        Uri server, CaPin pin, X509Certificate2 ca, X509Certificate2 certificate, Uri? proxy, string name, IEnumerable<ServiceTarget> services,
        TextReader input, TextWriter output, FileRoot? files = null)
    {
        _files = files;
        _server = server;
        _pin = pin;
        _ca = ca;
        _certificate = certificate;
        _proxy = proxy;
        _name = name;
        _services = services.ToDictionary(s => s.Name, StringComparer.Ordinal);
        _sessions = new HostSessions(_services, input, output, alwaysAsk: false, files);
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        _ = _sessions.Terminal.RunAsync(cancellationToken);
        var attempt = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            string problem;
            try
            {
                using var client = new ModuleClient(_server, _pin, _ca, _certificate, _proxy);
                await using var relays = new RelayOpener(client, bearer: null);
                using var channel = await client.ConnectHostChannelAsync(cancellationToken);
                var welcome = await GreetAsync(client, channel, cancellationToken);
                attempt = 0;
                _sessions.Terminal.Say(HostText.Online(welcome.Name, welcome.HostId, _server.Authority, DescribeServices(_services.Values, _files)));
                problem = await _sessions.ServeAsync(channel, relays, TimeSpan.FromSeconds(Math.Max(2, welcome.HeartbeatSeconds)), oneSession: false, cancellationToken);
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
                _sessions.EndAllSessions("the connection to the server was lost");
            }

            if (cancellationToken.IsCancellationRequested)
            {
                break;
            }

            var delay = Backoff(attempt++);
            _sessions.Terminal.Say(HostText.Offline(problem, delay.TotalSeconds.ToString("0.#", CultureInfo.CurrentCulture)));
            try
            {
                await Task.Delay(delay, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        _sessions.EndAllSessions("the host module stopped");
    }

    /// <summary>Exponential backoff with jitter: 1 s, 2 s, 4 s … 60 s, each scaled by a random 50–100 %.</summary>
    internal static TimeSpan Backoff(int attempt)
    {
        var ceiling = Math.Min(LongestRetry.TotalMilliseconds, FirstRetry.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 16)));
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + (Random.Shared.NextDouble() / 2)));
    }

    /// <summary>How the host's user reads what it offers.</summary>
    internal static string DescribeServices(IEnumerable<ServiceTarget> services, FileRoot? files = null)
    {
        var names = services.Select(s => s.IsScreen ? HostText.ScreenService(s.Name) : s.Name).ToList();
        if (files is not null)
        {
            names.Add(HostText.RightFiles(files.Root));
        }

        return names.Count == 0 ? HostText.NoServices : HostText.Services(string.Join(", ", names));
    }

    /// <summary>What the hello names: the services, system information, and the file service when a folder is shared.</summary>
    private List<string> Offered()
    {
        var offered = _services.Keys.Order(StringComparer.Ordinal).ToList();
        offered.Add(SessionPermissions.SystemInfoService);
        if (_files is not null)
        {
            offered.Add(SessionPermissions.FilesService);
        }

        return offered;
    }

    private async Task<Welcome> GreetAsync(ModuleClient client, ControlChannel channel, CancellationToken cancellationToken)
    {
        ControlMessage? first;
        try
        {
            await channel.SendAsync(
                new HostHello(_name, RuntimeInformation.OSDescription, ProtocolInfo.ProductVersion(typeof(HostAgent).Assembly), Offered()),
                cancellationToken);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(TimeSpan.FromSeconds(30));
            first = await channel.ReceiveAsync(wait.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException)
        {
            throw client.ClosedAtOnce(ex);
        }

        return first switch
        {
            Welcome welcome => welcome,
            ChannelError refused => throw new IOException(refused.Message),
            _ => throw new IOException("the server did not welcome this host"),
        };
    }

    public void Dispose() => _sessions.Dispose();
}
