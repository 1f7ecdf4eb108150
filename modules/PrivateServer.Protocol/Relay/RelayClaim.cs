using System.Text;

namespace PrivateServer.Protocol.Relay;

/// <summary>
/// How a module claims a relay stream on an already upgraded connection: it sends its one-time
/// ticket as one line (ASCII, at most <see cref="MaximumTicketLength"/> characters, then '\n'), the
/// server answers one status byte, and from then on the connection carries the stream's bytes.
/// Claiming in-band, after the upgrade, lets a module keep a spare connection open (TLS done,
/// upgraded) so that a new stream costs no handshake: stream set-up is then a few messages long.
/// </summary>
public static class RelayClaim
{
    public const int MaximumTicketLength = 64;

    /// <summary>The ticket was taken: the stream's bytes follow.</summary>
    public const byte Accepted = 0;

    /// <summary>Unknown, used, expired or someone else's ticket: the server closes the connection.</summary>
    public const byte Refused = 1;

    /// <summary>Module side: sends the ticket and reads the server's answer.</summary>
    /// <exception cref="RelayClaimException">The server refused the ticket.</exception>
    /// <exception cref="EndOfStreamException">The connection closed before the answer (a spare the server let go).</exception>
    public static async Task ClaimAsync(Stream stream, string ticket, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentException.ThrowIfNullOrEmpty(ticket);
        if (ticket.Length > MaximumTicketLength || ticket.Any(c => c is <= ' ' or > '~'))
        {
            throw new ArgumentException("a stream ticket is at most 64 printable ASCII characters", nameof(ticket));
        }

        var line = Encoding.ASCII.GetBytes(ticket + "\n");
        await stream.WriteAsync(line, cancellationToken);
        await stream.FlushAsync(cancellationToken);
        var answer = new byte[1];
        if (await stream.ReadAsync(answer, cancellationToken) == 0)
        {
            throw new EndOfStreamException("the server closed the relay connection before answering the ticket");
        }

        if (answer[0] != Accepted)
        {
            throw new RelayClaimException("the server refused the stream ticket (unknown, used or expired)");
        }
    }

    /// <summary>
    /// Server side: reads the ticket line. Null when the connection closed first; a
    /// <see cref="RelayClaimException"/> when the line is too long or not printable ASCII.
    /// </summary>
    public static async Task<string?> ReadTicketAsync(Stream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffer = new byte[MaximumTicketLength + 1];
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
                if (end != length - 1 || end == 0 || buffer.AsSpan(0, end).ContainsAnyExceptInRange((byte)'!', (byte)'~'))
                {
                    throw new RelayClaimException("a relay connection must start with its ticket line");
                }

                return Encoding.ASCII.GetString(buffer, 0, end);
            }

            if (length == buffer.Length)
            {
                throw new RelayClaimException("a relay ticket line is too long");
            }
        }
    }
}

/// <summary>A relay ticket was refused, or the ticket line broke the protocol.</summary>
public sealed class RelayClaimException(string message) : IOException(message);
