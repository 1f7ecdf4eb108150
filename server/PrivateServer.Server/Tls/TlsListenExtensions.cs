using System.Net.Security;
using System.Runtime.Versioning;
using System.Security.Authentication;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using PrivateServer.Protocol;
using PrivateServer.Protocol.Trust;

namespace PrivateServer.Server.Tls;

public static class TlsListenExtensions
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Serves TLS 1.2/1.3 only, AEAD suites only (AES-256-GCM first), with the certificate chosen
    /// at every handshake from <paramref name="certificates"/>; a client that offers TLS 1.3 gets
    /// TLS 1.3 (see <see cref="ClientHelloVersions"/>).
    /// </summary>
    /// <remarks>
    /// Modules send the fixed server name <see cref="ProtocolInfo.ModuleServerName"/>: they get the
    /// CA-issued module certificate and are asked for their client certificate (naming only the
    /// appliance CA). Everyone else — browsers — gets the server certificate and is never asked.
    /// </remarks>
    public static ListenOptions UseApplianceTls(this ListenOptions listen, ServerCertificateStore certificates, HostCertificateValidator hosts)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(certificates);
        ArgumentNullException.ThrowIfNull(hosts);
        // Windows takes its suites from the OS policy (Schannel); elsewhere we name them.
        CipherSuitesPolicy? cipherSuites = null;
        if (OperatingSystem.IsLinux())
        {
            cipherSuites = AeadCipherSuites();
        }

        listen.Use(ClientHelloVersions.Peek);
        return listen.UseHttps(new TlsHandshakeCallbackOptions
        {
            HandshakeTimeout = HandshakeTimeout,
            OnConnection = context =>
            {
                var module = string.Equals(context.ClientHelloInfo.ServerName, ProtocolInfo.ModuleServerName, StringComparison.OrdinalIgnoreCase);
                // TLS 1.3 suites are all AEAD: without a named list .NET shares one OpenSSL context per
                // certificate (instead of one per handshake, ~11 KiB per idle host) and can resume sessions.
                var tls13 = context.Connection.Features.Get<ClientHelloVersions>() is { OffersTls13: true };
                return ValueTask.FromResult(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = module ? certificates.ModuleContext : certificates.Context,
                    EnabledSslProtocols = tls13 ? SslProtocols.Tls13 : SslProtocols.Tls12 | SslProtocols.Tls13,
                    CipherSuitesPolicy = tls13 ? null : cipherSuites,
                    ClientCertificateRequired = module,
                    ApplicationProtocols = module ? Api.HostChannelEndpoint.ModuleProtocols : null,
                    CertificateRevocationCheckMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
                    RemoteCertificateValidationCallback = module ? hosts.Validate : null,
                    // The callback checks the chain (once per certificate); SslStream's own build then finds no root, cheaply.
                    CertificateChainPolicy = module ? VerifiedCertificates.CallbackOnlyPolicy() : null,
                });
            },
        });
    }

    [SupportedOSPlatform("linux")]
    private static CipherSuitesPolicy AeadCipherSuites() => new(
    [
        TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ]);
}
