using System.Net;
using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PrivateServer.Protocol;
using PrivateServer.Protocol.Control;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Broker;
using PrivateServer.Server.Hosts;

namespace PrivateServer.Server.Api;

/// <summary>
/// The host channel of an enrolled host: a TLS connection with the host's certificate that names
/// <see cref="ProtocolInfo.HostChannelProtocol"/> in ALPN carries WebSocket frames from its first
/// byte, served past Kestrel's HTTP layer. Thousands of hosts stay online at once; each one then
/// costs no HTTP connection and request (headers, features, middleware state) and every heartbeat
/// one layer less.
/// </summary>
public sealed class HostChannelEndpoint(
    ModuleIdentity identity, HostChannels channels, NetworkRules networks, AuditTrail audit, IHostApplicationLifetime lifetime)
{
    private static readonly TimeSpan RefusalTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The ALPN protocols module connections may choose from: the host channel, else HTTP/1.1 (API, relays).</summary>
    public static readonly List<SslApplicationProtocol> ModuleProtocols =
        [new SslApplicationProtocol(ProtocolInfo.HostChannelProtocol), SslApplicationProtocol.Http11];

    /// <summary>Why an enrolled host may not open its channel (null: it may), with the refusal audited and logged.</summary>
    public async Task<(HostRecord? Host, string? Refusal)> AdmitAsync(X509Certificate2? certificate, IPAddress? source, CancellationToken cancellationToken)
    {
        var host = await identity.AuthenticateHostAsync(certificate, cancellationToken);
        if (host is null)
        {
            return (null, "this host is not enrolled here, or it was revoked");
        }

        if (await networks.HostRefusalAsync(host.Group, source, cancellationToken) is { } outside)
        {
            networks.LogRefused($"host {host.Name} ({host.Id})", outside);
            if (networks.AuditRefusal(host.Id))
            {
                await audit.RecordAsync(host.Id, "host.connect-refused", host.Id, source: ModuleApiEndpoints.Source(source), details: AuditTrail.Details(("reason", outside)), cancellationToken: cancellationToken);
            }

            return (null, "this host may not connect from " + ModuleApiEndpoints.Source(source));
        }

        return (host, null);
    }

    /// <summary>Serves one host-channel connection until it ends (the TLS handshake already checked the certificate's chain and revocation).</summary>
    public async Task ServeAsync(ConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var tls = connection.Features.Get<ISslStreamFeature>()?.SslStream;
        if (tls is null)
        {
            return;
        }

        // A host's channel is idle but for a heartbeat now and then, for days: OpenSSL gives its ~34 KiB of record
        // buffers back between messages (before the first read, so no OpenSSL call runs beside it).
        Tls.IdleTlsBuffers.TryRelease(tls);
        var source = (connection.RemoteEndPoint as IPEndPoint)?.Address;
        var requested = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None;
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, requested, lifetime.ApplicationStopping);
        // Hosts prove liveness with heartbeats (both ways); WebSocket pings on top would only triple
        // the idle traffic of thousands of hosts.
        var socket = WebSocket.CreateFromStream(new ConnectionTlsStream(connection, tls), new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        using var channel = new ControlChannel(socket);
        try
        {
            var certificate = connection.Features.Get<ITlsConnectionFeature>()?.ClientCertificate;
            var (host, refusal) = await AdmitAsync(certificate, source, ended.Token);
            if (host is null)
            {
                // Told in the channel itself: the module shows the reason and tries again later.
                using var refuse = CancellationTokenSource.CreateLinkedTokenSource(ended.Token);
                refuse.CancelAfter(RefusalTimeout);
                await channel.TrySendAsync(new ChannelError("the server refused this module: " + refusal), refuse.Token);
                await channel.CloseAsync(WebSocketCloseStatus.PolicyViolation, "refused", refuse.Token, awaitPeer: true);
                return;
            }

            await channels.RunAsync(host, channel, ModuleApiEndpoints.Source(source), ended.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            // The host went away or the server stops.
        }
    }

    /// <summary>
    /// The connection's TLS stream as the WebSocket's transport. Kestrel owns that stream and disposes it
    /// asynchronously when the connection ends; its transport adapter refuses a synchronous dispose (throws), which is
    /// what a WebSocket does when it is disposed or aborted — on a cancelled receive, inside the canceller's call
    /// (a revocation). Closing this stream aborts the connection instead: pending reads end, Kestrel cleans up.
    /// </summary>
    private sealed class ConnectionTlsStream(ConnectionContext connection, Stream tls) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => tls.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => tls.ReadAsync(buffer, offset, count, cancellationToken);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => tls.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => tls.WriteAsync(buffer, offset, count, cancellationToken);

        public override Task FlushAsync(CancellationToken cancellationToken) => tls.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush() => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                connection.Abort();
            }

            base.Dispose(disposing);
        }
    }
}

public static class HostChannelListenExtensions
{
    /// <summary>Serves connections that chose the host channel in ALPN (after <c>UseApplianceTls</c>); everything else goes on to HTTP.</summary>
    public static ListenOptions UseHostChannel(this ListenOptions listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        var protocol = HostChannelEndpoint.ModuleProtocols[0].Protocol;
        listen.Use(next =>
        {
            // Built when the server starts, with the application's services in place.
            var endpoint = listen.ApplicationServices.GetRequiredService<HostChannelEndpoint>();
            return connection => connection.Features.Get<ITlsApplicationProtocolFeature>() is { } alpn && alpn.ApplicationProtocol.Span.SequenceEqual(protocol.Span)
                ? endpoint.ServeAsync(connection)
                : next(connection);
        });
        return listen;
    }
}
