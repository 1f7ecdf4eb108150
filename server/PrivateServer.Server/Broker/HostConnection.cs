using PrivateServer.Protocol.Control;
using PrivateServer.Server.Hosts;

namespace PrivateServer.Server.Broker;

/// <summary>
/// One online host — enrolled, or an ad-hoc customer connected for one session — with its control
/// channel, what it announced, and the session answers it owes.
/// </summary>
public sealed class HostConnection : IDisposable
{
    private readonly CancellationTokenSource _closed;

    // Usually empty (a question is pending only while the host is asked something): a plain
    // dictionary under its own lock holds no buckets until then, unlike a concurrent one, and
    // thousands of idle hosts each keep one.
    private readonly Dictionary<string, TaskCompletionSource<ControlMessage>> _pendingAnswers = new(StringComparer.Ordinal);

    internal HostConnection(HostRecord host, HostHello hello, ControlChannel channel, CancellationToken requestAborted, bool adHoc = false)
    {
        Host = host;
        IsAdHoc = adHoc;
        Hello = hello;
        Channel = channel;
        _closed = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
    }

    public HostRecord Host { get; }

    public HostHello Hello { get; }

    /// <summary>An ad-hoc customer: no certificate, one session, always asked, gone when the session ends.</summary>
    public bool IsAdHoc { get; }

    public ControlChannel Channel { get; }

    /// <summary>Cancelled when the channel closes for any reason (revocation, replacement, network loss).</summary>
    public CancellationToken Closed => _closed.Token;

    public string? CloseReason { get; private set; }

    public void Close(string reason)
    {
        CloseReason ??= reason;
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already gone.
        }
    }

    /// <summary>Closes the channel after <paramref name="delay"/> unless the peer closed it first (a graceful end's backstop).</summary>
    public void CloseSoon(string reason, TimeSpan delay)
    {
        CloseReason ??= reason;
        try
        {
            _closed.CancelAfter(delay);
        }
        catch (ObjectDisposedException)
        {
            // Already gone.
        }
    }

    /// <summary>Asks the host for a session and waits for its answer, the host going away, or the caller giving up.</summary>
    public async Task<SessionAnswer?> AskAsync(SessionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return await AskAsync(request.SessionId, request, cancellationToken) as SessionAnswer;
    }

    /// <summary>Asks the host for further rights in a running session; null when it went away or the caller gave up.</summary>
    public async Task<SessionRightsAnswer?> AskAsync(SessionRightsRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return await AskAsync(request.AskId, request, cancellationToken) as SessionRightsAnswer;
    }

    /// <summary>Asks the host to run a library script; null when it went away or the caller gave up.</summary>
    public async Task<ScriptResult?> AskAsync(ScriptRun request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return await AskAsync(request.RunId, request, cancellationToken) as ScriptResult;
    }

    private async Task<ControlMessage?> AskAsync(string id, ControlMessage request, CancellationToken cancellationToken)
    {
        var answer = new TaskCompletionSource<ControlMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_pendingAnswers)
        {
            _pendingAnswers[id] = answer;
        }

        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Closed);
            // Sent under the channel's own lifetime: a cancelled WebSocket send would abort the channel.
            await Channel.SendAsync(request, Closed);
            return await answer.Task.WaitAsync(linked.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // An answer that came just before the channel closed still counts (an ad-hoc customer refuses and
            // leaves at once): the close's cancellation can overtake the answer's continuation.
            return answer.Task.IsCompletedSuccessfully ? answer.Task.Result : null;
        }
        finally
        {
            lock (_pendingAnswers)
            {
                _pendingAnswers.Remove(id);
            }
        }
    }

    /// <summary>Delivers an answer to what was asked under <paramref name="id"/>; false when nobody asked (a stale or forged answer).</summary>
    internal bool Answer(string id, ControlMessage answer)
    {
        TaskCompletionSource<ControlMessage>? pending;
        lock (_pendingAnswers)
        {
            _pendingAnswers.Remove(id, out pending);
        }

        return pending is not null && pending.TrySetResult(answer);
    }

    public void Dispose() => _closed.Dispose();
}
