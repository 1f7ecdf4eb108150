using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace PrivateServer.Server.Tls.Acme;

/// <summary>
/// Answers ACME http-01 validation requests (plain HTTP, <c>GET /.well-known/acme-challenge/TOKEN</c>) on the
/// configured address while an order runs, and nothing else: every other request gets 404, then the connection closes.
/// </summary>
public sealed partial class Http01Responder : IAsyncDisposable
{
    private const string Prefix = "/.well-known/acme-challenge/";
    private readonly ConcurrentDictionary<string, string> _answers = new(StringComparer.Ordinal);
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly ILogger _logger;

    private Http01Responder(IPEndPoint endpoint, ILogger logger)
    {
        _logger = logger;
        _listener = new TcpListener(endpoint);
        _listener.Start();
        _accepting = AcceptAsync(_stop.Token);
    }

    /// <summary>Starts listening on <paramref name="address"/> (HOST:PORT, e.g. 0.0.0.0:80).</summary>
    public static Http01Responder Start(string address, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!IPEndPoint.TryParse(address, out var endpoint) || endpoint.Port == 0)
        {
            throw new InvalidOperationException($"Acme:Http01Address '{address}' is not an address and port such as 0.0.0.0:80");
        }

        try
        {
            return new Http01Responder(endpoint, logger);
        }
        catch (SocketException ex)
        {
            throw new InvalidOperationException($"cannot listen for the http-01 validation on {address}: {ex.Message}", ex);
        }
    }

    public void Publish(string token, string? keyAuthorization)
    {
        if (keyAuthorization is null)
        {
            _answers.TryRemove(token, out _);
        }
        else
        {
            _answers[token] = keyAuthorization;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(cancellationToken);
            _ = AnswerAsync(client, cancellationToken);
        }
    }

    private async Task AnswerAsync(TcpClient client, CancellationToken cancellationToken)
    {
        using (client)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(10));
                var stream = client.GetStream();
                var request = await ReadHeadAsync(stream, timeout.Token);
                var parts = request.Split(' ', 3);
                var token = parts.Length == 3 && parts[0] == "GET" && parts[1].StartsWith(Prefix, StringComparison.Ordinal) ? parts[1][Prefix.Length..] : null;
                var answer = token is not null && _answers.TryGetValue(token, out var found) ? found : null;
                var remote = client.Client.RemoteEndPoint;
                var path = parts.Length > 1 ? parts[1] : "-";
                LogRequest(_logger, remote, path, answer is not null);
                var body = Encoding.ASCII.GetBytes(answer ?? "not found");
                var head = Encoding.ASCII.GetBytes(
                    $"HTTP/1.1 {(answer is null ? "404 Not Found" : "200 OK")}\r\nContent-Type: {(answer is null ? "text/plain" : "application/octet-stream")}\r\n" +
                    $"Content-Length: {body.Length}\r\nConnection: close\r\n\r\n");
                await stream.WriteAsync(head, timeout.Token);
                await stream.WriteAsync(body, timeout.Token);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
                // A broken or slow request gets nothing.
            }
        }
    }

    /// <summary>The request line; the rest of the head (up to 8 KiB) is read and ignored.</summary>
    private static async Task<string> ReadHeadAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0)
            {
                break;
            }

            length += read;
            if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0)
            {
                break;
            }
        }

        var text = Encoding.ASCII.GetString(buffer, 0, length);
        var end = text.IndexOf("\r\n", StringComparison.Ordinal);
        return end < 0 ? text : text[..end];
    }

    [LoggerMessage(EventId = 2020, Level = LogLevel.Information, Message = "ACME http-01 request from {Remote} for {Path}: {Answered}")]
    private static partial void LogRequest(ILogger logger, EndPoint? remote, string path, bool answered);
}
