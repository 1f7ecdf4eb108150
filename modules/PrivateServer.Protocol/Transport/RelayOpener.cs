using PrivateServer.Protocol.Relay;

namespace PrivateServer.Protocol.Transport;

/// <summary>
/// Opens a module's relay streams and keeps one spare connection warm (TLS done, upgraded,
/// waiting for a ticket), so a new stream costs a ticket line instead of a TCP and TLS handshake.
/// The spare is replaced <see cref="RefillDelay"/> after each use, when the new stream's first bytes
/// have usually passed; a spare older than <see cref="SpareLifetime"/> (the server lets unclaimed
/// connections go after <see cref="ServerSpareTimeout"/>) or one that turns out closed is dropped
/// and the stream is opened on a fresh connection instead, as is a stream asked for before the
/// replacement is there.
/// </summary>
public sealed class RelayOpener : IAsyncDisposable
{
    /// <summary>How long the server keeps an unclaimed relay connection.</summary>
    public static readonly TimeSpan ServerSpareTimeout = TimeSpan.FromSeconds(120);

    /// <summary>How long a module uses a spare: well inside the server's timeout.</summary>
    public static readonly TimeSpan SpareLifetime = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long after a claim the spare's replacement starts opening. Its TLS handshake is the most CPU a stream's
    /// start costs, on the module and on the server; begun at once, it competed with the new stream's first bytes
    /// (measured on a 2-core VM running the appliance and both modules, streams 250 ms apart: first echoed byte
    /// p50 12.25 ms with the replacement at once, 3.33 ms with it 100 ms later).
    /// </summary>
    public static readonly TimeSpan RefillDelay = TimeSpan.FromMilliseconds(100);

    private readonly Func<CancellationToken, Task<Stream>> _connect;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _disposed = new();
    private readonly Lock _lock = new();
    private Spare? _spare;
    private bool _keepSpare;
    private bool _isDisposed;

    /// <summary>Relay streams of a module signed in as <paramref name="bearer"/> (null: its client certificate).</summary>
    public RelayOpener(ModuleClient client, string? bearer, TimeProvider? time = null)
        : this(ConnectionsOf(client, bearer), time)
    {
    }

    /// <summary>Relay streams on connections from <paramref name="connect"/>: each opens one upgraded relay connection, not yet claimed.</summary>
    public RelayOpener(Func<CancellationToken, Task<Stream>> connect, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(connect);
        _connect = connect;
        _time = time ?? TimeProvider.System;
    }

    private static Func<CancellationToken, Task<Stream>> ConnectionsOf(ModuleClient client, string? bearer)
    {
        ArgumentNullException.ThrowIfNull(client);
        return token => client.OpenRelayConnectionAsync(bearer, token);
    }

    private sealed record Spare(Task<Stream> Connection, long OpenedAt);

    /// <summary>Keeps a spare connection ready (while sessions run) or lets it go (when none does).</summary>
    public void KeepSpare(bool keep)
    {
        Spare? dropped = null;
        lock (_lock)
        {
            _keepSpare = keep;
            if (keep && _spare is null && !_isDisposed)
            {
                _spare = OpenSpare();
            }
            else if (!keep)
            {
                (dropped, _spare) = (_spare, null);
            }
        }

        Drop(dropped);
    }

    /// <summary>This side of the stream the ticket names: on the spare connection when there is a good one.</summary>
    public Task<Stream> OpenAsync(string ticket, CancellationToken cancellationToken) =>
        OpenWithAsync((stream, token) => RelayClaim.ClaimAsync(stream, ticket, token), cancellationToken);

    /// <summary>
    /// A supporter's new stream of session <paramref name="sessionId"/> to <paramref name="service"/>, asked for
    /// on the relay connection itself (on the spare when there is a good one): the server opens the host's half
    /// and the stream is usable when this returns.
    /// </summary>
    /// <exception cref="RelayClaimException">The server refused the stream; the message says why.</exception>
    public Task<Stream> RequestAsync(string sessionId, string service, CancellationToken cancellationToken) =>
        OpenWithAsync((stream, token) => RelayClaim.RequestAsync(stream, sessionId, service, token), cancellationToken);

    private async Task<Stream> OpenWithAsync(Func<Stream, CancellationToken, Task> claim, CancellationToken cancellationToken)
    {
        Spare? spare;
        lock (_lock)
        {
            (spare, _spare) = (_spare, null);
        }

        try
        {
            return await ClaimAsync(spare, claim, cancellationToken);
        }
        finally
        {
            // Neither before the claim nor at once after it: its handshake would delay this stream's first bytes.
            _ = RefillLaterAsync();
        }
    }

    private async Task<Stream> ClaimAsync(Spare? spare, Func<Stream, CancellationToken, Task> claim, CancellationToken cancellationToken)
    {
        if (spare is not null && _time.GetElapsedTime(spare.OpenedAt) < SpareLifetime)
        {
            // A spare still opening is awaited: it is never slower than starting another connection.
            Stream? stream = null;
            try
            {
                stream = await spare.Connection.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Drop(spare);
                throw;
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
            {
                // The spare did not open; a fresh connection says why, if it fails too.
            }

            if (stream is not null)
            {
                try
                {
                    await claim(stream, cancellationToken);
                    return stream;
                }
                catch (IOException ex) when (ex is not RelayClaimException)
                {
                    // The spare was closed under us (server restart, idle timeout): the claim was
                    // not read, so it is still good on a fresh connection.
                    await stream.DisposeAsync();
                }
                catch
                {
                    await stream.DisposeAsync();
                    throw;
                }
            }
        }
        else
        {
            Drop(spare);
        }

        var fresh = await _connect(cancellationToken);
        try
        {
            await claim(fresh, cancellationToken);
            return fresh;
        }
        catch
        {
            await fresh.DisposeAsync();
            throw;
        }
    }

    private async Task RefillLaterAsync()
    {
        CancellationToken disposed;
        lock (_lock)
        {
            if (_isDisposed || !_keepSpare)
            {
                return;
            }

            disposed = _disposed.Token;
        }

        try
        {
            await Task.Delay(RefillDelay, _time, disposed);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        Refill();
    }

    private void Refill()
    {
        lock (_lock)
        {
            if (_keepSpare && !_isDisposed && _spare is null)
            {
                _spare = OpenSpare();
            }
        }
    }

    private Spare OpenSpare() => new(_connect(_disposed.Token), _time.GetTimestamp());

    private static void Drop(Spare? spare)
    {
        if (spare is not null)
        {
            _ = DiscardAsync(spare.Connection);
        }
    }

    /// <summary>Closes a relay connection that is still opening (or swallows why it did not open): one that is no longer wanted.</summary>
    public static async Task DiscardAsync(Task<Stream> connection)
    {
        try
        {
            await (await connection).DisposeAsync();
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // It never opened: nothing to close.
        }
    }

    public async ValueTask DisposeAsync()
    {
        Spare? spare;
        lock (_lock)
        {
            if (_isDisposed)
            {
                return;
            }

            _isDisposed = true;
            (spare, _spare) = (_spare, null);
            _keepSpare = false;
        }

        await _disposed.CancelAsync();
        if (spare is not null)
        {
            await DiscardAsync(spare.Connection);
        }

        _disposed.Dispose();
    }
}
