using System.Collections.Concurrent;
using PrivateServer.Server.Auth;

namespace PrivateServer.Server.Relay;

/// <summary>
/// Pairs the two halves of relay streams by one-time tickets. A ticket names the stream, the
/// side and the identity that may use it; it is removed at first use, so it cannot be replayed,
/// and a half that waits longer than <see cref="PairingTimeout"/> for its partner gives up.
/// </summary>
public sealed class RelayRendezvous
{
    public static readonly TimeSpan PairingTimeout = TimeSpan.FromSeconds(20);

    private readonly ConcurrentDictionary<string, Ticket> _tickets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RelayPair> _streams = new(StringComparer.Ordinal);

    private sealed record Ticket(RelayPair Stream, RelaySide Side, string Identity, DateTimeOffset ExpiresAt);

    /// <summary>
    /// A new stream with one ticket per side, or a host ticket only (<paramref name="withSupporterTicket"/> false)
    /// when the caller is the supporter's half already.
    /// </summary>
    public (RelayPair Stream, string HostTicket, string? SupporterTicket) Create(
        string sessionId, string service, string hostId, string supporter, DateTimeOffset now, CancellationToken sessionEnded, bool record = false,
        bool withSupporterTicket = true)
    {
        var stream = new RelayPair("st-" + SecretToken.New()[..16], sessionId, service, hostId, supporter, sessionEnded, record);
        var hostTicket = SecretToken.New();
        var supporterTicket = withSupporterTicket ? SecretToken.New() : null;
        var expires = now + PairingTimeout;
        _streams[stream.Id] = stream;
        _tickets[hostTicket] = new Ticket(stream, RelaySide.Host, hostId, expires);
        if (supporterTicket is not null)
        {
            _tickets[supporterTicket] = new Ticket(stream, RelaySide.Supporter, supporter, expires);
        }

        _ = ForgetLaterAsync(stream, hostTicket, supporterTicket);
        return (stream, hostTicket, supporterTicket);
    }

    /// <summary>
    /// Takes a ticket for the given identity; null when it is unknown, used, expired or issued to
    /// someone else (a wrong identity also burns it: a stolen ticket is useless to its owner too,
    /// and the stream fails cleanly).
    /// </summary>
    public (RelayPair Stream, RelaySide Side)? Take(string ticket, RelaySide side, string identity, DateTimeOffset now)
    {
        if (!_tickets.TryRemove(ticket, out var entry))
        {
            return null;
        }

        if (entry.Side != side || !string.Equals(entry.Identity, identity, StringComparison.Ordinal) || entry.ExpiresAt < now)
        {
            entry.Stream.Fail("a relay ticket was presented by the wrong party or too late");
            return null;
        }

        return (entry.Stream, entry.Side);
    }

    /// <summary>Streams of <paramref name="sessionId"/> and of <paramref name="supporter"/> not finished yet (waiting for their halves or pumping).</summary>
    public (int Session, int Supporter) CountOpen(string sessionId, string supporter)
    {
        int session = 0, theirs = 0;
        foreach (var stream in _streams.Values)
        {
            if (string.Equals(stream.Supporter, supporter, StringComparison.Ordinal))
            {
                theirs++;
                session += string.Equals(stream.SessionId, sessionId, StringComparison.Ordinal) ? 1 : 0;
            }
        }

        return (session, theirs);
    }

    /// <summary>The host reported it could not open its half.</summary>
    public void Fail(string streamId, string hostId, string reason)
    {
        if (_streams.TryGetValue(streamId, out var stream) && stream.HostId == hostId)
        {
            stream.Fail(reason);
        }
    }

    private async Task ForgetLaterAsync(RelayPair stream, string hostTicket, string? supporterTicket)
    {
        try
        {
            await stream.Finished.WaitAsync(PairingTimeout, stream.SessionEnded);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            // The pairing window is over; a running pump keeps its stream.
        }

        _tickets.TryRemove(hostTicket, out _);
        if (supporterTicket is not null && _tickets.TryRemove(supporterTicket, out _))
        {
            // The supporter never came: release a host half that is waiting for it.
            stream.Fail("the supporter did not open its half in time");
        }

        try
        {
            await stream.Finished.WaitAsync(stream.SessionEnded);
        }
        catch (OperationCanceledException)
        {
            // Session ended.
        }

        _streams.TryRemove(stream.Id, out _);
    }
}
