using PrivateServer.Server.Broker;

namespace PrivateServer.Server.AdHoc;

/// <summary>How an ad-hoc customer came: with a supporter's code, or with a request for the queue.</summary>
public enum AdHocVia
{
    Code,
    Request,
}

/// <summary>
/// A customer connected without installing anything, for one session: its control channel, the hash of
/// the key its relay halves present, and either the code it redeemed or its request in the queue.
/// </summary>
public sealed class AdHocCustomer
{
    private readonly TaskCompletionSource _taken = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _takenFlag;

    internal AdHocCustomer(
        HostConnection connection, string relayKeyHash, SessionCodeRecord? code, string? requestId, string? requestText, string? group,
        string source, DateTimeOffset since)
    {
        Connection = connection;
        RelayKeyHash = relayKeyHash;
        Code = code;
        RequestId = requestId;
        RequestText = requestText;
        Group = group;
        Source = source;
        Since = since;
    }

    public HostConnection Connection { get; }

    public string RelayKeyHash { get; }

    public AdHocVia Via => Code is null ? AdHocVia.Request : AdHocVia.Code;

    /// <summary>The redeemed code (<see cref="AdHocVia.Code"/>).</summary>
    public SessionCodeRecord? Code { get; }

    /// <summary>The request's id in the queue (<see cref="AdHocVia.Request"/>).</summary>
    public string? RequestId { get; }

    public string? RequestText { get; }

    /// <summary>The queue's group; null: every supporter sees the request.</summary>
    public string? Group { get; }

    public string Source { get; }

    public DateTimeOffset Since { get; }

    /// <summary>Completes when a supporter has taken this customer's one session.</summary>
    public Task Taken => _taken.Task;

    /// <summary>True for exactly one supporter: a customer gets one session, never two.</summary>
    internal bool TryTake()
    {
        if (Interlocked.Exchange(ref _takenFlag, 1) != 0)
        {
            return false;
        }

        _taken.TrySetResult();
        return true;
    }
}
