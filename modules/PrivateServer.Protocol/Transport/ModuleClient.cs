using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Serialization.Metadata;
using PrivateServer.Protocol.Control;
using PrivateServer.Protocol.Relay;
using PrivateServer.Protocol.Trust;

namespace PrivateServer.Protocol.Transport;

/// <summary>
/// How a module talks to the appliance: every connection is TCP (direct or through the proxy),
/// then TLS with the fixed module server name, the server's chain checked against the pinned
/// CA only, and — for an enrolled host — its client certificate. On top: the JSON API, control
/// channels (WebSocket; a host's own channel straight over TLS) and relay streams (HTTP/1.1 Upgrade to a raw stream).
/// </summary>
public sealed class ModuleClient : IDisposable
{
    /// <summary>The Upgrade token of relay streams.</summary>
    public const string RelayUpgradeToken = "privateserver-relay";

    /// <summary>
    /// Asked for on a relay connection's upgrade, answered by a server that frames its streams so that the connection
    /// carries one stream after another (<see cref="FramedRelayStream"/>); a server that does not answer it relays one
    /// stream per connection, raw.
    /// </summary>
    public const string RelayFramingHeader = "PrivateServer-Relay-Framing";

    /// <summary>The value of <see cref="RelayFramingHeader"/>: frames as <see cref="FramedRelayStream"/> describes them.</summary>
    public const string RelayFramingVersion = "1";

    /// <summary>The host channel's ALPN protocol, offered alone: a server that does not choose it is not ours.</summary>
    private static readonly List<SslApplicationProtocol> HostChannelProtocols = [new(ProtocolInfo.HostChannelProtocol)];

    private readonly SocketsHttpHandler _handler;
    private readonly Uri _server;
    private readonly CaPin _pin;
    private readonly X509Certificate2 _ca;
    private readonly X509Certificate2? _clientCertificate;

    // Made once: creating it builds the certificate's chain, which every relay connection would otherwise pay for again.
    private readonly SslStreamCertificateContext? _clientContext;

    private readonly Uri? _proxy;
    private readonly Uri _base;

    // The server's certificate checked once against the pin, not at every relay connection's handshake.
    private readonly VerifiedCertificates _verifiedServer = new(TimeProvider.System, capacity: 16);

    /// <param name="server">The appliance, https://HOST[:PORT].</param>
    /// <param name="pin">The CA fingerprint the module was given.</param>
    /// <param name="ca">The CA certificate with that fingerprint (<see cref="FetchCaAsync"/>, or kept in the module's state).</param>
    /// <param name="clientCertificate">An enrolled host's certificate with its key; null for supporters and ad-hoc hosts.</param>
    /// <param name="proxy">The HTTP proxy to tunnel through, or null.</param>
    public ModuleClient(Uri server, CaPin pin, X509Certificate2 ca, X509Certificate2? clientCertificate, Uri? proxy)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(pin);
        ArgumentNullException.ThrowIfNull(ca);
        if (!pin.Matches(ca))
        {
            throw new ArgumentException("the CA certificate does not have the pinned fingerprint " + pin.Hex);
        }

        _server = server;
        _pin = pin;
        _ca = ca;
        _clientCertificate = clientCertificate;
        _clientContext = clientCertificate is null ? null : SslStreamCertificateContext.Create(clientCertificate, additionalCertificates: null, offline: true);
        _proxy = proxy;
        _handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(15),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            ConnectCallback = async (context, cancellationToken) => await ConnectAsync(null, cancellationToken),
        };
        // The handler speaks plain HTTP/1.1 into the TLS stream that ConnectAsync hands it.
        _base = new UriBuilder(Uri.UriSchemeHttp, server.Host, server.Port).Uri;
        Http = new HttpClient(_handler, disposeHandler: false) { BaseAddress = _base, Timeout = TimeSpan.FromSeconds(60) };
    }

    public HttpClient Http { get; }

    /// <summary>
    /// Gets the appliance CA certificate for a module that knows only its fingerprint. TLS servers
    /// do not send their root, so the module asks for it (<c>/api/v1/ca</c>) on a connection it
    /// does not trust yet, sends nothing else on it, and accepts the answer only if it has the
    /// pinned fingerprint and the server certificate of that very connection chains to it.
    /// </summary>
    public static async Task<X509Certificate2> FetchCaAsync(Uri server, CaPin pin, Uri? proxy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(pin);
        X509Certificate2? leaf = null;
        var presented = new List<X509Certificate2>();
        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(15),
            ConnectCallback = async (_, token) =>
            {
                var tcp = await ProxyTunnel.ConnectAsync(server.Host, server.Port, proxy, token);
                var tls = new SslStream(tcp, leaveInnerStreamOpen: false);
                try
                {
                    await tls.AuthenticateAsClientAsync(
                        new SslClientAuthenticationOptions
                        {
                            TargetHost = ProtocolInfo.ModuleServerName,
                            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                            // Judged below, once the CA is known; nothing but the CA request is sent on this connection.
                            RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
                            {
                                leaf = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
                                presented.AddRange(chain?.ChainPolicy.ExtraStore ?? []);
                                return leaf is not null;
                            },
                        },
                        token);
                    return tls;
                }
                catch (Exception ex) when (ex is AuthenticationException or IOException)
                {
                    await tls.DisposeAsync();
                    throw new ModuleTransportException($"TLS with {server.Authority} failed: {ex.Message}", ex);
                }
            },
        };
        using var http = new HttpClient(handler) { BaseAddress = new UriBuilder(Uri.UriSchemeHttp, server.Host, server.Port).Uri, Timeout = TimeSpan.FromSeconds(30) };
        string pem;
        try
        {
            pem = await http.GetStringAsync("api/v1/ca", cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw Unwrap(ex, null);
        }

        X509Certificate2 ca;
        try
        {
            ca = X509Certificate2.CreateFromPem(pem);
        }
        catch (CryptographicException ex)
        {
            throw new ModuleTransportException($"refusing the server {server.Authority}: it sent no CA certificate", ex);
        }

        using (leaf)
        {
            if (!pin.Matches(ca) || leaf is null || !pin.ValidatesServer(leaf, presented.Append(ca), out var error))
            {
                var reason = pin.Matches(ca) ? "its certificate does not chain to the pinned CA" : "its CA does not have the pinned fingerprint " + pin.Hex;
                ca.Dispose();
                throw new ModuleTransportException($"refusing the server {server.Authority}: {reason}", new AuthenticationException(reason));
            }
        }

        return ca;
    }

    /// <summary>Parses the <c>--server</c> argument: https://HOST[:PORT].</summary>
    public static Uri ParseServer(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException($"the server '{text}' is not an https://HOST[:PORT] address");
        }

        return uri;
    }

    /// <summary>POSTs JSON and reads JSON; a refusal becomes a <see cref="ModuleApiException"/> with the server's words.</summary>
    public async Task<TResponse> PostAsync<TRequest, TResponse>(
        string path, TRequest body, JsonTypeInfo<TRequest> request, JsonTypeInfo<TResponse> response, string? bearer, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body, request) };
        Authorize(message, bearer);
        return await SendAsync(message, response, cancellationToken);
    }

    /// <summary>POSTs without a body (the path says it all) and reads JSON.</summary>
    public async Task<TResponse> PostAsync<TResponse>(string path, JsonTypeInfo<TResponse> response, string? bearer, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, path);
        Authorize(message, bearer);
        return await SendAsync(message, response, cancellationToken);
    }

    public async Task<TResponse> GetAsync<TResponse>(string path, JsonTypeInfo<TResponse> response, string? bearer, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, path);
        Authorize(message, bearer);
        return await SendAsync(message, response, cancellationToken);
    }

    /// <summary>Opens a control channel (WebSocket) at <paramref name="path"/>.</summary>
    public async Task<ControlChannel> ConnectControlAsync(string path, string? bearer, TimeSpan keepAlive, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = keepAlive;
        if (keepAlive > TimeSpan.Zero)
        {
            socket.Options.KeepAliveTimeout = keepAlive * 2;
        }

        if (bearer is not null)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + bearer);
        }

        socket.Options.CollectHttpResponseDetails = true;
        var uri = new UriBuilder("ws", _base.Host, _base.Port, path).Uri;
        try
        {
            using var invoker = new HttpMessageInvoker(_handler, disposeHandler: false);
            await socket.ConnectAsync(uri, invoker, cancellationToken);
            return new ControlChannel(socket);
        }
        catch (WebSocketException ex)
        {
            var status = socket.HttpStatusCode;
            socket.Dispose();
            throw status switch
            {
                HttpStatusCode.Unauthorized => new ModuleApiException(status, "the server did not accept our credentials (sign in again)"),
                HttpStatusCode.Forbidden => new ModuleApiException(status, "the server refused this module (revoked or not allowed)"),
                0 => Unwrap(ex),
                _ => new ModuleApiException(status, $"the server answered {(int)status} to {path}"),
            };
        }
    }

    /// <summary>
    /// Opens this host's control channel: TLS with its certificate, naming
    /// <see cref="ProtocolInfo.HostChannelProtocol"/> in ALPN, then WebSocket frames from the first byte (no HTTP).
    /// A refused certificate shows up when the first message is read (TLS 1.3 judges it after the handshake).
    /// </summary>
    public async Task<ControlChannel> ConnectHostChannelAsync(CancellationToken cancellationToken)
    {
        var tls = await ConnectAsync(HostChannelProtocols, cancellationToken);
        if (tls.NegotiatedApplicationProtocol != HostChannelProtocols[0])
        {
            await tls.DisposeAsync();
            throw new ModuleTransportException(
                $"the server {_server.Authority} does not offer the host channel ({ProtocolInfo.HostChannelProtocol}); is it a PrivateServer appliance of this version?",
                new IOException("ALPN: " + tls.NegotiatedApplicationProtocol));
        }

        var socket = WebSocket.CreateFromStream(tls, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = ModuleTimings.HostKeepAlive });
        return new ControlChannel(socket);
    }

    /// <summary>What a host channel that broke before its first message means to a person: most often a refused certificate.</summary>
    public IOException ClosedAtOnce(Exception ex) => Unwrap(ex, this);

    /// <summary>
    /// A new relay connection: TLS, this module's identity, upgraded to a raw stream — not yet
    /// bound to a stream (<see cref="RelayClaim.ClaimAsync"/> does that with a ticket). Reusable when the server frames
    /// its streams (<see cref="RelayFramingHeader"/>).
    /// </summary>
    public async Task<RelayConnection> OpenRelayConnectionAsync(string? bearer, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, "api/v1/relay");
        message.Headers.Connection.Add("Upgrade");
        message.Headers.Upgrade.Add(new ProductHeaderValue(RelayUpgradeToken));
        message.Headers.Add(RelayFramingHeader, RelayFramingVersion);
        Authorize(message, bearer);
        HttpResponseMessage response;
        try
        {
            response = await Http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw Unwrap(ex);
        }

        if (response.StatusCode != HttpStatusCode.SwitchingProtocols)
        {
            using (response)
            {
                throw await RefusalAsync(response, cancellationToken);
            }
        }

        var framed = response.Headers.TryGetValues(RelayFramingHeader, out var values) && values.Contains(RelayFramingVersion, StringComparer.Ordinal);
        return new RelayConnection(await response.Content.ReadAsStreamAsync(cancellationToken), framed);
    }

    public void Dispose()
    {
        Http.Dispose();
        _handler.Dispose();
    }

    private static void Authorize(HttpRequestMessage message, string? bearer)
    {
        if (bearer is not null)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
    }

    private async Task<TResponse> SendAsync<TResponse>(HttpRequestMessage message, JsonTypeInfo<TResponse> type, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await Http.SendAsync(message, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw Unwrap(ex);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw await RefusalAsync(response, cancellationToken);
            }

            return await response.Content.ReadFromJsonAsync(type, cancellationToken)
                ?? throw new ModuleApiException(response.StatusCode, "the server sent an empty answer");
        }
    }

    private static async Task<ModuleApiException> RefusalAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string? detail = null;
        try
        {
            var problem = await response.Content.ReadFromJsonAsync(ProtocolJson.Default.ApiProblem, cancellationToken);
            detail = problem?.Detail ?? problem?.Title;
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or NotSupportedException or InvalidOperationException)
        {
            // Not a problem document: the status says enough.
        }

        return new ModuleApiException(response.StatusCode, detail ?? $"the server answered {(int)response.StatusCode} {response.ReasonPhrase}");
    }

    /// <summary>Turns the HTTP stack's wrapping into the one line a person needs.</summary>
    private IOException Unwrap(Exception ex) => Unwrap(ex, this);

    private static IOException Unwrap(Exception ex, ModuleClient? client)
    {
        var innermost = ex;
        for (var inner = ex; inner is not null; inner = inner.InnerException)
        {
            if (inner is ModuleTransportException transport)
            {
                return transport;
            }

            innermost = inner;
        }

        // With TLS 1.3 the server judges a client certificate after the client finished its part
        // of the handshake: a refused certificate shows up as a connection (or the host channel's WebSocket) closed right away.
        return client?._clientCertificate is not null && innermost is IOException or AuthenticationException or WebSocketException
            ? new IOException($"the server {client._server.Authority} closed the connection at once; this host's certificate may have been revoked ({innermost.Message})", ex)
            : new IOException(innermost.Message, ex);
    }

    private async ValueTask<SslStream> ConnectAsync(List<SslApplicationProtocol>? protocols, CancellationToken cancellationToken)
    {
        var tcp = await ProxyTunnel.ConnectAsync(_server.Host, _server.Port, _proxy, cancellationToken);
        string? rejection = null;
        var tls = new SslStream(tcp, leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = ProtocolInfo.ModuleServerName,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            // The pin judges the chain in the callback; the build SslStream does first finds no root (cheap).
            CertificateChainPolicy = VerifiedCertificates.CallbackOnlyPolicy(),
            RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
            {
                if (certificate is not X509Certificate2 leaf)
                {
                    rejection = "the server presented no certificate";
                    return false;
                }

                // Read only when the leaf is not known yet.
                IEnumerable<X509Certificate2> presented = chain is null
                    ? [_ca]
                    : new[] { _ca }.Concat(chain.ChainPolicy.ExtraStore).Concat(chain.ChainElements.Select(e => e.Certificate));

                if (!_pin.ValidatesServer(leaf, presented, _verifiedServer, out var error))
                {
                    rejection = error;
                    return false;
                }

                return true;
            },
        };
        options.ClientCertificateContext = _clientContext;
        options.ApplicationProtocols = protocols;

        try
        {
            await tls.AuthenticateAsClientAsync(options, cancellationToken);
            return tls;
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            await tls.DisposeAsync();
            throw new ModuleTransportException(
                rejection is not null
                    ? $"refusing the server {_server.Authority}: {rejection}"
                    : _clientCertificate is not null
                        ? $"the server {_server.Authority} refused the TLS handshake (is this host's certificate revoked?): {ex.Message}"
                        : $"TLS with {_server.Authority} failed: {ex.Message}",
                ex);
        }
    }
}

/// <summary>The server answered with a refusal; the message is its explanation.</summary>
public sealed class ModuleApiException(HttpStatusCode status, string message) : IOException(message)
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>The connection to the server could not be made safely (unreachable, wrong CA, refused handshake).</summary>
public sealed class ModuleTransportException(string message, Exception inner) : IOException(message, inner);
