namespace PrivateServer.Protocol.Control;

/// <summary>
/// Gives up on a peer that stays silent too long: <see cref="Arm"/> before each receive returns a
/// token cancelled after the limit (or with the outer token). One timer per channel, re-armed per
/// message — no allocation per heartbeat; a watchdog that fired while a message was being handled
/// (nobody was waiting then) is replaced, never left cancelled.
/// </summary>
public sealed class SilenceWatchdog(CancellationToken outer) : IDisposable
{
    private CancellationTokenSource _source = CancellationTokenSource.CreateLinkedTokenSource(outer);

    /// <summary>A token for the next wait, cancelled if it lasts longer than <paramref name="limit"/>.</summary>
    public CancellationToken Arm(TimeSpan limit)
    {
        if (!_source.TryReset())
        {
            _source.Dispose();
            _source = CancellationTokenSource.CreateLinkedTokenSource(outer);
        }

        _source.CancelAfter(limit);
        return _source.Token;
    }

    public void Dispose() => _source.Dispose();
}
