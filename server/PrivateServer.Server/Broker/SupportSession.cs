using System.Collections.Immutable;
using PrivateServer.Protocol.Control;

namespace PrivateServer.Server.Broker;

/// <summary>Who ended a session.</summary>
public enum SessionEndedBy
{
    Supporter,
    Host,
    HostGone,
    Server,
}

/// <summary>A granted session between one supporter and one host: the rights the host granted and the channels of both.</summary>
public sealed class SupportSession : IDisposable
{
    private readonly CancellationTokenSource _ended = new();
    private readonly TaskCompletionSource _endCompleted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _ending;
    private int _asking;
    private IReadOnlyList<string> _granted;
    private ImmutableList<ControlChannel> _chatChannels = [];

    internal SupportSession(
        string id, HostConnection host, string supporter, IReadOnlyList<string> granted, ControlChannel supporterChannel, DateTimeOffset startedAt, bool record = false)
    {
        Record = record;
        Id = id;
        Host = host;
        Supporter = supporter;
        _granted = granted;
        SupporterChannel = supporterChannel;
        StartedAt = startedAt;
    }

    public string Id { get; }

    public HostConnection Host { get; }

    public string Supporter { get; }

    /// <summary>What the host has granted so far (it may grant more while the session runs).</summary>
    public IReadOnlyList<string> Granted => Volatile.Read(ref _granted);

    public ControlChannel SupporterChannel { get; }

    /// <summary>The supporter's further channels into this session, for chat only (<c>chat SESSION</c>).</summary>
    internal IReadOnlyList<ControlChannel> ChatChannels => Volatile.Read(ref _chatChannels);

    /// <summary>Every channel of the supporter's: the session's own and the chat ones.</summary>
    internal IEnumerable<ControlChannel> SupporterChannels => [SupporterChannel, .. ChatChannels];

    internal void AttachChat(ControlChannel channel) => ImmutableInterlocked.Update(ref _chatChannels, list => list.Add(channel));

    internal void DetachChat(ControlChannel channel) => ImmutableInterlocked.Update(ref _chatChannels, list => list.Remove(channel));

    /// <summary>Held while a new stream of this session is counted against the limits and created.</summary>
    internal Lock StreamsLock { get; } = new();

    /// <summary>The host's group records screen streams on the server.</summary>
    public bool Record { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary>Cancelled when the session ends: every stream of it closes.</summary>
    public CancellationToken Ended => _ended.Token;

    public string? EndReason { get; private set; }

    /// <summary>Completes once the first caller of <see cref="TryBeginEnd"/> has notified and cancelled.</summary>
    internal Task EndCompleted => _endCompleted.Task;

    /// <summary>Adds rights the host granted later; returns all the session has now.</summary>
    internal IReadOnlyList<string> Grant(IEnumerable<string> more)
    {
        IReadOnlyList<string> before, after;
        do
        {
            before = Volatile.Read(ref _granted);
            after = [.. before, .. more.Where(p => !before.Contains(p, StringComparer.Ordinal))];
        }
        while (Interlocked.CompareExchange(ref _granted, after, before) != before);

        return after;
    }

    /// <summary>True when no other request for more rights is waiting for the host (one at a time); pair with <see cref="EndAsking"/>.</summary>
    internal bool TryBeginAsking() => Interlocked.Exchange(ref _asking, 1) == 0;

    internal void EndAsking() => Volatile.Write(ref _asking, 0);

    /// <summary>True for the first caller only: that one notifies and cancels.</summary>
    internal bool TryBeginEnd(string reason)
    {
        if (Interlocked.Exchange(ref _ending, 1) != 0)
        {
            return false;
        }

        EndReason = reason;
        return true;
    }

    /// <summary>Ends every stream of the session and releases whoever waits for the end.</summary>
    internal void Cancel()
    {
        try
        {
            _ended.Cancel();
        }
        finally
        {
            _endCompleted.TrySetResult();
        }
    }

    public void Dispose() => _ended.Dispose();
}
