using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;

namespace PrivateServer.IntegrationTests.Infrastructure;

/// <summary>
/// A raw WebSocket to the appliance as a module would open it (TLS name modules.privateserver.invalid,
/// optional client certificate, optional bearer token), for tests that send what no module would.
/// </summary>
public static class ModuleSocket
{
    public const string ModuleServerName = "modules.privateserver.invalid";

    /// <summary>Opens a WebSocket at <paramref name="path"/>, from <paramref name="localAddress"/> (a 127.0.0.0/8 address standing for another computer) if given.</summary>
    public static async Task<ClientWebSocket> ConnectAsync(
        ApplianceProcess appliance, string path, X509Certificate2? clientCertificate, string? bearer, CancellationToken cancellationToken,
        IPAddress? localAddress = null)
    {
        var handler = Handler(appliance, clientCertificate, localAddress);
        var socket = new ClientWebSocket();
        if (bearer is not null)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + bearer);
        }

        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{appliance.Port}/{path}"), new HttpMessageInvoker(handler, disposeHandler: false), cancellationToken);
        return socket;
    }

    /// <summary>
    /// An enrolled host's control channel as the host module opens it: TLS with the certificate, ALPN
    /// <c>privateserver-host/1</c>, WebSocket frames from the first byte.
    /// </summary>
    public static async Task<WebSocket> ConnectHostChannelAsync(ApplianceProcess appliance, X509Certificate2 certificate, CancellationToken cancellationToken)
    {
        var tls = await ConnectTlsAsync(appliance, certificate, null, [new SslApplicationProtocol("privateserver-host/1")], cancellationToken);
        return WebSocket.CreateFromStream(tls, new WebSocketCreationOptions { IsServer = false });
    }

    /// <summary>An HTTP client speaking to the module endpoint (for relay and API requests).</summary>
    public static HttpClient CreateClient(ApplianceProcess appliance, X509Certificate2? clientCertificate) =>
        new(Handler(appliance, clientCertificate)) { BaseAddress = new Uri($"http://127.0.0.1:{appliance.Port}/") };

    /// <summary>Loads an enrolled host's certificate and key from its state folder.</summary>
    public static X509Certificate2 LoadHostCertificate(string state)
    {
        using var pem = X509Certificate2.CreateFromPem(
            File.ReadAllText(Path.Combine(state, "host.crt")), File.ReadAllText(Path.Combine(state, "host.key")));
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    private static SocketsHttpHandler Handler(ApplianceProcess appliance, X509Certificate2? clientCertificate, IPAddress? localAddress = null) => new()
    {
        UseProxy = false,
        ConnectCallback = async (_, token) => await ConnectTlsAsync(appliance, clientCertificate, localAddress, null, token),
    };

    /// <summary>TCP from <paramref name="localAddress"/> (if given), then TLS as a module: its server name, only the appliance CA trusted.</summary>
    private static async Task<SslStream> ConnectTlsAsync(
        ApplianceProcess appliance, X509Certificate2? clientCertificate, IPAddress? localAddress, List<SslApplicationProtocol>? protocols,
        CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        if (localAddress is not null)
        {
            socket.Bind(new IPEndPoint(localAddress, 0));
        }

        await socket.ConnectAsync("127.0.0.1", appliance.Port, cancellationToken);
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = ModuleServerName,
            RemoteCertificateValidationCallback = (_, certificate, _, errors) => CaTrust.IsTrusted(appliance.Ca, certificate, errors),
            ApplicationProtocols = protocols,
        };
        if (clientCertificate is not null)
        {
            options.ClientCertificateContext = SslStreamCertificateContext.Create(clientCertificate, null, offline: true);
        }

        await tls.AuthenticateAsClientAsync(options, cancellationToken);
        return tls;
    }
}
