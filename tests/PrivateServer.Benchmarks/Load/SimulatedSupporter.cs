using System.Net.WebSockets;
using PrivateServer.Protocol.Control;
using PrivateServer.Protocol.Transport;

namespace PrivateServer.Benchmarks.Load;

/// <summary>
/// A supporter's session in the load process, speaking the real protocol: the session channel,
/// connect request, consent, stream requests and relay streams — what <c>privateserver-supporter
/// connect</c> does, without its local listeners.
/// </summary>
internal sealed class SimulatedSupporter : IAsyncDisposable
{
    private readonly RelayOpener _relays;
    private readonly ControlChannel _channel;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _receiving;

    private SimulatedSupporter(ModuleClient client, string token, ControlChannel channel, SessionGranted granted)
    {
        _relays = new RelayOpener(client, token);
        _relays.KeepSpare(true);
        _channel = channel;
        Granted = granted;
        _receiving = ReceiveAsync(_stopping.Token);
    }

    public SessionGranted Granted { get; }

    /// <summary>Asks for a session with <paramref name="host"/> and waits for it to be granted.</summary>
    public static async Task<SimulatedSupporter> ConnectAsync(
        ModuleClient client, string token, string host, IReadOnlyList<string> permissions, CancellationToken cancellationToken)
    {
        var channel = await client.ConnectControlAsync("api/v1/sessions/connect", token, ModuleTimings.SupporterKeepAlive, cancellationToken);
        try
        {
            await channel.SendAsync(new ConnectRequest(host, permissions), cancellationToken);
            while (true)
            {
                switch (await channel.ReceiveAsync(cancellationToken))
                {
                    case SessionGranted granted:
                        return new SimulatedSupporter(client, token, channel, granted);
                    case SessionRefused refused:
                        throw new IOException("session refused: " + refused.Reason);
                    case null:
                        throw new IOException("the server closed the session channel");
                    default:
                        break;
                }
            }
        }
        catch
        {
            channel.Dispose();
            throw;
        }
    }

    /// <summary>A new relay stream to <paramref name="service"/> on the host, asked for on a relay connection.</summary>
    public Task<Stream> OpenStreamAsync(string service, CancellationToken cancellationToken) =>
        _relays.RequestAsync(Granted.SessionId, service, cancellationToken).WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);

    private async Task ReceiveAsync(CancellationToken cancellationToken)
    {
        try
        {
            // Nothing to act on (streams are asked for on relay connections); read until the session is over.
            while (await _channel.ReceiveAsync(cancellationToken) is not null)
            {
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            // Session over.
        }
    }

    public async ValueTask DisposeAsync()
    {
        using (var close = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
        {
            await _channel.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", close.Token);
        }

        await _stopping.CancelAsync();
        await _receiving;
        await _relays.DisposeAsync();
        _channel.Dispose();
        _stopping.Dispose();
    }
}
