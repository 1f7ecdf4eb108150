using PrivateServer.Protocol.Relay;

namespace PrivateServer.Protocol.Transport;

/// <summary>
/// Opens a module's relay streams and keeps one spare connection warm (TLS done, upgraded,
/// waiting for a ticket), so a new stream costs a ticket line instead of a TCP and TLS handshake.
/// The spare is replaced after each use; a spare older than <see cref="SpareLifetime"/> (the
/// server lets unclaimed connections go after <see cref="ServerSpareTimeout"/>) or one that turns
/// out closed is dropped and the stream is opened on a fresh connection instead.
/// </summary>
public sealed class RelayOpener : IAsyncDisposable
{
    /// <summary>How long the server keeps an unclaimed relay connection.</summary>
    public static readonly TimeSpan ServerSpareTimeout = TimeSpan.FromSeconds(120);

    /// <summary>How long a module uses a spare: well inside the server's timeout.</summary>
    public static readonly TimeSpan SpareLifetime = TimeSpan.FromSeconds(60);

    private readonly ModuleClient _client;
    private readonly string? _bearer;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _disposed = new();
    private readonly Lock _lock = new();
    private Spare? _spare;
    private bool _keepSpare;
    private bool _isDisposed;

    public RelayOpener(ModuleClient client, string? bearer, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _bearer = bearer;
        _time = time ?? TimeProvider.System;
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
    public async Task<Stream> OpenAsync(string ticket, CancellationToken cancellationToken)
    {
        Spare? spare;
        lock (_lock)
        {
            (spare, _spare) = (_spare, null);
        }

        try
        {
            return await ClaimAsync(spare, ticket, cancellationToken);
        }
        finally
        {
            // The replacement is opened after the claim, so that its handshake never delays this stream.
            Refill();
        }
    }

    private async Task<Stream> ClaimAsync(Spare? spare, string ticket, CancellationToken cancellationToken)
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
                    await RelayClaim.ClaimAsync(stream, ticket, cancellationToken);
                    return stream;
                }
                catch (IOException ex) when (ex is not RelayClaimException)
                {
                    // The spare was closed under us (server restart, idle timeout): the ticket was
                    // not taken, so it is still good on a fresh connection.
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

        return await _client.OpenRelayAsync(ticket, _bearer, cancellationToken);
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

    private Spare OpenSpare() => new(_client.OpenRelayConnectionAsync(_bearer, _disposed.Token), _time.GetTimestamp());

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
