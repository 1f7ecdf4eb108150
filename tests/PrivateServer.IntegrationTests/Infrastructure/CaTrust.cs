using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace PrivateServer.IntegrationTests.Infrastructure;

/// <summary>HTTPS clients that trust exactly one CA — never the system store, never "accept any".</summary>
public static class CaTrust
{
    public static HttpClient CreateClient(X509Certificate2 ca, Uri baseAddress, CookieContainer? cookies = null) =>
        CreateClient(ca, baseAddress, cookies, source: null);

    /// <summary>As above, connecting from <paramref name="source"/> (another loopback address, 127.0.0.0/8) when given: the server sees that client address.</summary>
    public static HttpClient CreateClient(X509Certificate2 ca, Uri baseAddress, CookieContainer? cookies, IPAddress? source)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = source is null ? null : async (context, cancellationToken) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    // The appliance listens on 127.0.0.1 ("localhost" in the URL names its certificate).
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port), cancellationToken);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            AllowAutoRedirect = false,
            UseCookies = true,
            CookieContainer = cookies ?? new CookieContainer(),
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(ca, certificate, errors),
            },
        };
        return new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public static bool IsTrusted(X509Certificate2 ca, X509Certificate? presented, SslPolicyErrors errors)
    {
        // The system store does not know the appliance CA, so only chain errors may remain; the name must match.
        if (presented is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        return chain.Build(leaf);
    }
}
