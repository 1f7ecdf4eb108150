using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PrivateServer.Server.Tls;

namespace PrivateServer.Server.Tests.Tls;

public sealed class IdleTlsBuffersTests
{
    private const long ReleaseBuffersMode = 0x10; // SSL_MODE_RELEASE_BUFFERS

    [Fact]
    public async Task A_server_connection_gives_its_buffers_back_when_idle_and_still_carries_data_both_ways()
    {
        await using var pair = await TlsPair.OpenAsync();

        var released = IdleTlsBuffers.TryRelease(pair.Server);

        // On Linux with OpenSSL 3 (this machine, the appliance's platform) the mode must be set: a runtime that moved the
        // private handle fails here, not silently in production.
        released.Should().BeTrue();
        (IdleTlsBuffers.Mode(pair.Server) & ReleaseBuffersMode).Should().Be(ReleaseBuffersMode);
        (IdleTlsBuffers.Mode(pair.Client) & ReleaseBuffersMode).Should().Be(0, "only the connection it was asked for");

        // Messages small and large (several TLS records), with idle moments between them, arrive whole both ways.
        foreach (var size in new[] { 1, 300, 16 * 1024, 200 * 1024 })
        {
            var up = RandomNumberGenerator.GetBytes(size);
            var down = RandomNumberGenerator.GetBytes(size);
            await pair.Client.WriteAsync(up);
            var receivedUp = new byte[size];
            await pair.Server.ReadExactlyAsync(receivedUp);
            await pair.Server.WriteAsync(down);
            var receivedDown = new byte[size];
            await pair.Client.ReadExactlyAsync(receivedDown);
            receivedUp.Should().Equal(up);
            receivedDown.Should().Equal(down);
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task A_disposed_connection_is_left_alone()
    {
        var pair = await TlsPair.OpenAsync();
        await pair.DisposeAsync();

        IdleTlsBuffers.TryRelease(pair.Server).Should().BeFalse();
        IdleTlsBuffers.Mode(pair.Server).Should().BeNull();
    }

    /// <summary>A TLS 1.3 connection over loopback TCP, both ends in this process.</summary>
    private sealed class TlsPair : IAsyncDisposable
    {
        private readonly X509Certificate2 _certificate;

        private TlsPair(SslStream client, SslStream server, X509Certificate2 certificate)
        {
            Client = client;
            Server = server;
            _certificate = certificate;
        }

        public SslStream Client { get; }

        public SslStream Server { get; }

        public static async Task<TlsPair> OpenAsync()
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
            using var issued = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1));
            // Through PKCS#12: a certificate whose key SslStream can use on every platform.
            var certificate = X509CertificateLoader.LoadPkcs12(issued.Export(X509ContentType.Pkcs12), password: null);
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var connecting = new TcpClient();
            await connecting.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
            var accepted = await listener.AcceptTcpClientAsync();
            // The client trusts exactly this certificate (pinned by its hash).
            var pinned = certificate.GetCertHashString(HashAlgorithmName.SHA256);
            var client = new SslStream(
                connecting.GetStream(), leaveInnerStreamOpen: false,
                (_, presented, _, _) => presented is not null && presented.GetCertHashString(HashAlgorithmName.SHA256) == pinned);
            var server = new SslStream(accepted.GetStream(), leaveInnerStreamOpen: false);
            await Task.WhenAll(
                client.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }),
                server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }));
            return new TlsPair(client, server, certificate);
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await Server.DisposeAsync();
            _certificate.Dispose();
        }
    }
}
