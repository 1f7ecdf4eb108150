namespace PrivateServer.Server.Relay;

/// <summary>Which module a relay half belongs to.</summary>
public enum RelaySide
{
    Host,
    Supporter,
}

/// <summary>
/// One tunnelled byte stream of a session: two halves (host, supporter), each opened once with its
/// own one-time ticket by the identity it was issued to. The supporter's half runs the pump.
/// </summary>
public sealed class RelayPair
{
    private readonly TaskCompletionSource<Stream> _hostHalf = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal RelayPair(string id, string sessionId, string service, string hostId, string supporter, CancellationToken sessionEnded, bool record = false)
    {
        Record = record;
        Id = id;
        SessionId = sessionId;
        Service = service;
        HostId = hostId;
        Supporter = supporter;
        SessionEnded = sessionEnded;
    }

    public string Id { get; }

    public string SessionId { get; }

    public string Service { get; }

    public string HostId { get; }

    public string Supporter { get; }

    /// <summary>The group's policy asks for this stream to be recorded on the server.</summary>
    public bool Record { get; }

    /// <summary>Cancelled when the session ends: every pump of the session stops.</summary>
    public CancellationToken SessionEnded { get; }

    public string? FailureReason { get; private set; }

    internal void OfferHostHalf(Stream stream) => _hostHalf.TrySetResult(stream);

    internal Task<Stream> HostHalf => _hostHalf.Task;

    internal Task Finished => _finished.Task;

    internal void Finish() => _finished.TrySetResult();

    /// <summary>The host could not open its half, or the session ended before pairing.</summary>
    internal void Fail(string reason)
    {
        FailureReason ??= reason;
        _hostHalf.TrySetCanceled();
        _finished.TrySetResult();
    }
}
