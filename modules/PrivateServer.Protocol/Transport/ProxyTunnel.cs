using System.Buffers;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace PrivateServer.Protocol.Transport;

/// <summary>
/// Opens a TCP connection to the server, directly or through an HTTP proxy with CONNECT (what the
/// company's web proxy allows for HTTPS). Basic proxy credentials may be given in the proxy URL.
/// </summary>
public static class ProxyTunnel
{
    private const int MaximumResponseHeaderBytes = 16 * 1024;

    /// <summary>The proxy from <c>--proxy</c>, else from HTTPS_PROXY / https_proxy, else none.</summary>
    public static Uri? Resolve(string? option, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var text = !string.IsNullOrWhiteSpace(option) ? option
            : environment("HTTPS_PROXY") is { Length: > 0 } upper ? upper
            : environment("https_proxy");
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (!text.Contains("://", StringComparison.Ordinal))
        {
            text = "http://" + text;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.Port <= 0)
        {
            throw new ArgumentException($"the proxy '{text}' is not an http://HOST:PORT address");
        }

        return uri;
    }

    public static async Task<Stream> ConnectAsync(string host, int port, Uri? proxy, CancellationToken cancellationToken)
    {
        var target = proxy is null ? (host, port) : (proxy.Host, proxy.Port);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(target.Item1, target.Item2, cancellationToken);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            var what = proxy is null ? $"the server {host}:{port}" : $"the proxy {proxy.Host}:{proxy.Port}";
            throw new ModuleTransportException($"cannot reach {what}: {ex.Message}", ex);
        }

        var stream = new NetworkStream(socket, ownsSocket: true);
        if (proxy is null)
        {
            return stream;
        }

        try
        {
            await ConnectThroughAsync(stream, host, port, proxy, cancellationToken);
            return stream;
        }
        catch (IOException ex)
        {
            await stream.DisposeAsync();
            throw new ModuleTransportException(ex.Message, ex);
        }
    }

    private static async Task ConnectThroughAsync(NetworkStream stream, string host, int port, Uri proxy, CancellationToken cancellationToken)
    {
        var authority = (host.Contains(':', StringComparison.Ordinal) ? "[" + host + "]" : host) + ":" + port.ToString(CultureInfo.InvariantCulture);
        var request = new StringBuilder()
            .Append("CONNECT ").Append(authority).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(authority).Append("\r\n");
        if (!string.IsNullOrEmpty(proxy.UserInfo))
        {
            var credentials = Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(proxy.UserInfo)));
            request.Append("Proxy-Authorization: Basic ").Append(credentials).Append("\r\n");
        }

        request.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()), cancellationToken);

        // Read the response head byte by byte: nothing after it may be consumed (the TLS handshake follows).
        var head = ArrayPool<byte>.Shared.Rent(MaximumResponseHeaderBytes);
        try
        {
            var length = 0;
            while (length < 4 || !head.AsSpan(length - 4, 4).SequenceEqual("\r\n\r\n"u8))
            {
                if (length == MaximumResponseHeaderBytes)
                {
                    throw new IOException($"the proxy {proxy.Authority} sent an oversized answer to CONNECT");
                }

                if (await stream.ReadAsync(head.AsMemory(length, 1), cancellationToken) == 0)
                {
                    throw new IOException($"the proxy {proxy.Authority} closed the connection during CONNECT");
                }

                length++;
            }

            var statusLine = Encoding.ASCII.GetString(head, 0, length).Split("\r\n")[0];
            var parts = statusLine.Split(' ', 3);
            if (parts.Length < 2 || !parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || parts[1] != "200")
            {
                throw new IOException($"the proxy {proxy.Authority} refused CONNECT {authority}: {statusLine}");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(head);
        }
    }
}
