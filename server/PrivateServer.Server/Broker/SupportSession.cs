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

    internal SupportSession(string id, HostConnection host, string supporter, IReadOnlyList<string> granted, ControlChannel supporterChannel, DateTimeOffset startedAt)
    {
        Id = id;
        Host = host;
        Supporter = supporter;
        Granted = granted;
        SupporterChannel = supporterChannel;
        StartedAt = startedAt;
    }

    public string Id { get; }

    public HostConnection Host { get; }

    public string Supporter { get; }

    public IReadOnlyList<string> Granted { get; }

    public ControlChannel SupporterChannel { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary>Cancelled when the session ends: every stream of it closes.</summary>
    public CancellationToken Ended => _ended.Token;

    public string? EndReason { get; private set; }

    /// <summary>Completes once the first caller of <see cref="TryBeginEnd"/> has notified and cancelled.</summary>
    internal Task EndCompleted => _endCompleted.Task;

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
