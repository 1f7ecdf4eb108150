using System.Text;

namespace PrivateServer.Protocol.Relay;

/// <summary>
/// How a module claims a relay stream on an already upgraded connection: it sends one line (ASCII, at
/// most <see cref="MaximumLineLength"/> characters, then '\n'), the server answers one status byte, and
/// from then on the connection carries the stream's bytes. The line is either a one-time ticket the
/// server handed out (no spaces) or, from a supporter module, a stream request
/// <c>stream SESSION SERVICE</c>: the server then opens the stream itself, without a ticket round trip
/// on the session's channel. A refusal may be followed by its reason, one UTF-8 line.
/// Claiming in-band, after the upgrade, lets a module keep a spare connection open (TLS done,
/// upgraded) so that a new stream costs no handshake: stream set-up is then a few messages long.
/// </summary>
public static class RelayClaim
{
    public const int MaximumTicketLength = 64;

    /// <summary>The longest claim line: a stream request with a session id and a service name.</summary>
    public const int MaximumLineLength = 128;

    /// <summary>The longest refusal reason the server sends and a module reads.</summary>
    public const int MaximumReasonLength = 512;

    private const string RequestVerb = "stream";

    /// <summary>Why a ticket is refused: the reason line the server sends, and what a module says when none came.</summary>
    public const string TicketRefused = "the stream ticket was refused (unknown, used or expired)";

    /// <summary>The ticket was taken: the stream's bytes follow.</summary>
    public const byte Accepted = 0;

    /// <summary>Unknown, used, expired or someone else's ticket, or a request refused: the server closes the connection.</summary>
    public const byte Refused = 1;

    /// <summary>Module side: sends the ticket and reads the server's answer.</summary>
    /// <exception cref="RelayClaimException">The server refused the ticket.</exception>
    /// <exception cref="EndOfStreamException">The connection closed before the answer (a spare the server let go).</exception>
    public static Task ClaimAsync(Stream stream, string ticket, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        RequireToken(ticket, "a stream ticket", nameof(ticket));
        return SendAsync(stream, ticket, TicketRefused, cancellationToken);
    }

    /// <summary>
    /// Supporter module side: asks for a new stream of session <paramref name="sessionId"/> to
    /// <paramref name="service"/> and reads the server's answer.
    /// </summary>
    /// <exception cref="RelayClaimException">The server refused the stream, with its reason.</exception>
    /// <exception cref="EndOfStreamException">The connection closed before the answer (a spare the server let go).</exception>
    public static Task RequestAsync(Stream stream, string sessionId, string service, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        RequireToken(sessionId, "a session id", nameof(sessionId));

        if (!Sessions.SessionPermissions.IsValidServiceName(service))
        {
            throw new ArgumentException($"'{service}' is not a service name", nameof(service));
        }

        return SendAsync(stream, $"{RequestVerb} {sessionId} {service}", $"the server refused a stream to '{service}'", cancellationToken);
    }

    /// <summary>A ticket or session id goes into a claim line as one word: 1–64 printable ASCII characters, no spaces.</summary>
    private static void RequireToken(string value, string what, string parameter)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, parameter);
        if (value.Length > MaximumTicketLength || value.Any(c => c is <= ' ' or > '~'))
        {
            throw new ArgumentException($"{what} is at most 64 printable ASCII characters", parameter);
        }
    }

    private static async Task SendAsync(Stream stream, string line, string refused, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\n"), cancellationToken);
        await stream.FlushAsync(cancellationToken);
        var answer = new byte[1];
        if (await stream.ReadAsync(answer, cancellationToken) == 0)
        {
            throw new EndOfStreamException("the server closed the relay connection before answering the claim");
        }

        if (answer[0] != Accepted)
        {
            var reason = await ReadReasonAsync(stream, cancellationToken);
            throw new RelayClaimException(string.IsNullOrWhiteSpace(reason) ? refused : reason);
        }
    }

    /// <summary>The reason line after a refusal, if the server sent one before closing (anything unreadable counts as none).</summary>
    private static async Task<string?> ReadReasonAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaximumReasonLength];
        var length = 0;
        try
        {
            while (length < buffer.Length)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (Array.IndexOf(buffer, (byte)'\n', 0, length) is var end and >= 0)
                {
                    length = end;
                    break;
                }
            }
        }
        catch (IOException)
        {
            // Closed without a reason.
        }

        var text = Encoding.UTF8.GetString(buffer, 0, length);
        return text.Any(char.IsControl) ? null : text;
    }

    /// <summary>Server side: a refusal with its reason, ready to send (the connection is closed after it).</summary>
    public static byte[] Refusal(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        var text = new string(reason.Select(c => char.IsControl(c) ? ' ' : c).ToArray());
        var bytes = Encoding.UTF8.GetBytes(text);
        var length = Math.Min(bytes.Length, MaximumReasonLength - 1);
        var answer = new byte[length + 2];
        answer[0] = Refused;
        bytes.AsSpan(0, length).CopyTo(answer.AsSpan(1));
        answer[^1] = (byte)'\n';
        return answer;
    }

    /// <summary>
    /// Server side: reads the claim line. Null when the connection closed first; a
    /// <see cref="RelayClaimException"/> when the line is too long, not printable ASCII or neither a
    /// ticket nor a stream request.
    /// </summary>
    public static async Task<RelayClaimLine?> ReadClaimAsync(Stream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffer = new byte[MaximumLineLength + 1];
        var length = 0;
        while (true)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0)
            {
                return null;
            }

            var end = Array.IndexOf(buffer, (byte)'\n', length, read);
            length += read;
            if (end >= 0)
            {
                // Nothing may follow the line: the module waits for the answer before sending stream bytes.
                if (end != length - 1 || end == 0 || buffer.AsSpan(0, end).ContainsAnyExceptInRange((byte)' ', (byte)'~'))
                {
                    throw new RelayClaimException("a relay connection must start with its claim line");
                }

                return Parse(Encoding.ASCII.GetString(buffer, 0, end));
            }

            if (length == buffer.Length)
            {
                throw new RelayClaimException("a relay claim line is too long");
            }
        }
    }

    private static RelayClaimLine Parse(string line)
    {
        if (!line.Contains(' ', StringComparison.Ordinal))
        {
            return line.Length <= MaximumTicketLength
                ? new RelayClaimLine(line, null, null)
                : throw new RelayClaimException("a relay ticket is too long");
        }

        var parts = line.Split(' ');
        return parts is [RequestVerb, { Length: > 0 and <= MaximumTicketLength } session, var service] && Sessions.SessionPermissions.IsValidServiceName(service)
            ? new RelayClaimLine(null, session, service)
            : throw new RelayClaimException("a relay claim line is a ticket or 'stream SESSION SERVICE'");
    }
}

/// <summary>
/// What a relay connection claims: a <see cref="Ticket"/> the server handed out, or a new stream of
/// <see cref="SessionId"/> to <see cref="Service"/> (a supporter's request in-band).
/// </summary>
public sealed record RelayClaimLine(string? Ticket, string? SessionId, string? Service);

/// <summary>A relay ticket was refused, or the ticket line broke the protocol.</summary>
public sealed class RelayClaimException(string message) : IOException(message);
