using PrivateServer.Protocol.Relay;

namespace PrivateServer.Protocol.Transport;

/// <summary>
/// A relay connection, upgraded and not claimed yet: <see cref="Reusable"/> when the server frames its streams, so
/// that the connection can carry the next stream once this one ended (<see cref="FramedRelayStream"/>).
/// </summary>
public sealed record RelayConnection(Stream Stream, bool Reusable);

/// <summary>
/// Opens a module's relay streams and keeps spare connections warm (TLS done, upgraded,
/// waiting for a claim), so a new stream costs a claim line instead of a TCP and TLS handshake.
/// A connection whose server frames the streams comes back when its stream ended and waits for the
/// next one (up to <see cref="MaximumSpares"/> wait); when none is left, one is opened
/// <see cref="RefillDelay"/> after a claim, when the new stream's first bytes have usually passed.
/// A spare unused for <see cref="SpareLifetime"/> (the server lets unclaimed connections go after
/// <see cref="ServerSpareTimeout"/>) or one that turns out closed is dropped and the stream is opened
/// on a fresh connection instead, as is a stream asked for while no spare is there.
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

    /// <summary>The most connections that wait for a stream: streams that end give theirs back up to this many.</summary>
    public const int MaximumSpares = 4;

    private readonly Func<CancellationToken, Task<RelayConnection>> _connect;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _disposed = new();
    private readonly Lock _lock = new();

    // Oldest first; a claim takes the newest ready one.
    private readonly List<Spare> _spares = [];
    private bool _keepSpare;
    private bool _isDisposed;

    /// <summary>Relay streams of a module signed in as <paramref name="bearer"/> (null: its client certificate).</summary>
    public RelayOpener(ModuleClient client, string? bearer, TimeProvider? time = null)
        : this(ConnectionsOf(client, bearer), time)
    {
    }

    /// <summary>Relay streams on connections from <paramref name="connect"/>: each opens one upgraded relay connection, not yet claimed, used for one stream.</summary>
    public RelayOpener(Func<CancellationToken, Task<Stream>> connect, TimeProvider? time = null)
        : this(OneStreamEach(connect), time)
    {
    }

    /// <summary>Relay streams on connections from <paramref name="connect"/>: each opens one upgraded relay connection, not yet claimed.</summary>
    public RelayOpener(Func<CancellationToken, Task<RelayConnection>> connect, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(connect);
        _connect = connect;
        _time = time ?? TimeProvider.System;
    }

    private static Func<CancellationToken, Task<RelayConnection>> ConnectionsOf(ModuleClient client, string? bearer)
    {
        ArgumentNullException.ThrowIfNull(client);
        return token => client.OpenRelayConnectionAsync(bearer, token);
    }

    private static Func<CancellationToken, Task<RelayConnection>> OneStreamEach(Func<CancellationToken, Task<Stream>> connect)
    {
        ArgumentNullException.ThrowIfNull(connect);
        return async token => new RelayConnection(await connect(token), Reusable: false);
    }

    /// <summary>A connection waiting for a claim, since <paramref name="Since"/> (opened or given back).</summary>
    private sealed record Spare(Task<RelayConnection> Connection, long Since);

    /// <summary>Keeps a spare connection ready (while sessions run) or lets them go (when none does).</summary>
    public void KeepSpare(bool keep)
    {
        List<Spare> dropped = [];
        lock (_lock)
        {
            _keepSpare = keep;
            if (keep && _spares.Count == 0 && !_isDisposed)
            {
                _spares.Add(OpenSpare());
            }
            else if (!keep)
            {
                dropped.AddRange(_spares);
                _spares.Clear();
            }
        }

        dropped.ForEach(Drop);
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
            spare = TakeSpare();
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

    /// <summary>The newest spare that is open, else the newest still opening (awaited: never slower than another connection); spares too old are dropped. Under the lock.</summary>
    private Spare? TakeSpare()
    {
        for (var i = _spares.Count - 1; i >= 0; i--)
        {
            if (_time.GetElapsedTime(_spares[i].Since) >= SpareLifetime)
            {
                Drop(_spares[i]);
                _spares.RemoveAt(i);
            }
        }

        var index = _spares.FindLastIndex(s => s.Connection.IsCompletedSuccessfully);
        index = index >= 0 ? index : _spares.Count - 1;
        if (index < 0)
        {
            return null;
        }

        var spare = _spares[index];
        _spares.RemoveAt(index);
        return spare;
    }

    private async Task<Stream> ClaimAsync(Spare? spare, Func<Stream, CancellationToken, Task> claim, CancellationToken cancellationToken)
    {
        if (spare is not null)
        {
            RelayConnection? connection = null;
            try
            {
                connection = await spare.Connection.WaitAsync(cancellationToken);
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

            if (connection is not null)
            {
                try
                {
                    await claim(connection.Stream, cancellationToken);
                    return Claimed(connection);
                }
                catch (IOException ex) when (ex is not RelayClaimException)
                {
                    // The spare was closed under us (server restart, idle timeout): the claim was
                    // not read, so it is still good on a fresh connection.
                    await connection.Stream.DisposeAsync();
                }
                catch
                {
                    await connection.Stream.DisposeAsync();
                    throw;
                }
            }
        }

        var fresh = await _connect(cancellationToken);
        try
        {
            await claim(fresh.Stream, cancellationToken);
            return Claimed(fresh);
        }
        catch
        {
            await fresh.Stream.DisposeAsync();
            throw;
        }
    }

    /// <summary>The stream on a claimed connection: framed when the connection outlives it, given back here when it ends.</summary>
    private Stream Claimed(RelayConnection connection) =>
        connection.Reusable ? new FramedRelayStream(connection.Stream, GiveBackAsync) : connection.Stream;

    /// <summary>A connection whose stream ended cleanly waits for the next stream (unless enough do, or none is wanted).</summary>
    private async ValueTask GiveBackAsync(Stream connection)
    {
        Spare? dropped = null;
        lock (_lock)
        {
            if (!_isDisposed && _keepSpare)
            {
                _spares.Add(new Spare(Task.FromResult(new RelayConnection(connection, Reusable: true)), _time.GetTimestamp()));
                if (_spares.Count > MaximumSpares)
                {
                    dropped = _spares[0];
                    _spares.RemoveAt(0);
                }

                connection = Stream.Null;
            }
        }

        await connection.DisposeAsync();
        Drop(dropped);
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
            if (_keepSpare && !_isDisposed && _spares.Count == 0)
            {
                _spares.Add(OpenSpare());
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

    private static Task DiscardAsync(Task<RelayConnection> connection) => DiscardAsync(connection, c => c.Stream);

    /// <summary>Closes a relay connection that is still opening (or swallows why it did not open): one that is no longer wanted.</summary>
    public static Task DiscardAsync(Task<Stream> connection) => DiscardAsync(connection, stream => stream);

    private static async Task DiscardAsync<T>(Task<T> connection, Func<T, Stream> stream)
    {
        try
        {
            await stream(await connection).DisposeAsync();
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // It never opened: nothing to close.
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<Spare> spares;
        lock (_lock)
        {
            if (_isDisposed)
            {
                return;
            }

            _isDisposed = true;
            spares = [.. _spares];
            _spares.Clear();
            _keepSpare = false;
        }

        await _disposed.CancelAsync();
        foreach (var spare in spares)
        {
            await DiscardAsync(spare.Connection);
        }

        _disposed.Dispose();
    }
}
