using System.Buffers;

namespace PrivateServer.Protocol.Relay;

/// <summary>Which side of a pump ended first.</summary>
public enum RelayEnd
{
    /// <summary>Side A closed (end of stream) or failed.</summary>
    SideA,

    /// <summary>Side B closed (end of stream) or failed.</summary>
    SideB,

    /// <summary>The caller cancelled (session ended, emergency stop, shutdown).</summary>
    Cancelled,
}

/// <summary>What a pump did: who ended it and the bytes each way. Used by logs and the audit trail.</summary>
public sealed record RelayResult(RelayEnd EndedBy, long BytesAToB, long BytesBToA, string? Error);

/// <summary>
/// Copies opaque bytes both ways between two duplex streams with one pooled buffer per
/// direction. The first direction to finish cancels the other; both halves are closed together
/// by the caller (who owns the streams). No per-chunk allocation, no per-chunk logging.
/// </summary>
public static class RelayPump
{
    public const int BufferSize = 128 * 1024;

    public static Task<RelayResult> RunAsync(Stream a, Stream b, CancellationToken cancellationToken) =>
        RunAsync(a, b, aToB: null, bToA: null, cancellationToken);

    /// <summary>Pumps A↔B; <paramref name="aToB"/> and <paramref name="bToA"/>, when given, replace the plain copies.</summary>
    /// <param name="a">Side A.</param>
    /// <param name="b">Side B.</param>
    /// <param name="aToB">Replaces the plain copy from A to B (the host's RFB view-only filter); gets (from, to) and returns the bytes it forwarded.</param>
    /// <param name="bToA">Replaces the plain copy from B to A, the same way.</param>
    /// <param name="cancellationToken">Ends the pump (session ended).</param>
    public static async Task<RelayResult> RunAsync(
        Stream a,
        Stream b,
        Func<Stream, Stream, CancellationToken, Task<long>>? aToB,
        Func<Stream, Stream, CancellationToken, Task<long>>? bToA,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var forward = aToB is null ? CopyAsync(a, b, both.Token) : CountedAsync(aToB(a, b, both.Token));
        var backward = bToA is null ? CopyAsync(b, a, both.Token) : CountedAsync(bToA(b, a, both.Token));
        var first = await Task.WhenAny(forward, backward);
        await both.CancelAsync();
        // Cancellation does not always interrupt a pending socket read: closing is the caller's job,
        // but we must not leave the survivor running on streams about to be disposed.
        var second = first == forward ? backward : forward;
        var endedBy = cancellationToken.IsCancellationRequested ? RelayEnd.Cancelled : first == forward ? RelayEnd.SideA : RelayEnd.SideB;
        var error = (await first).Error;
        await Task.WhenAny(second, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
        var forwardResult = forward.IsCompleted ? await forward : new Direction(0, null);
        var backwardResult = backward.IsCompleted ? await backward : new Direction(0, null);
        return new RelayResult(endedBy, forwardResult.Bytes, backwardResult.Bytes, error);
    }

    private readonly record struct Direction(long Bytes, string? Error);

    private static async Task<Direction> CountedAsync(Task<long> copy)
    {
        try
        {
            return new Direction(await copy, null);
        }
        catch (Exception ex) when (IsExpected(ex))
        {
            return new Direction(0, ex is OperationCanceledException ? null : ex.Message);
        }
    }

    private static async Task<Direction> CopyAsync(Stream from, Stream to, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        long total = 0;
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer, cancellationToken);
                if (read == 0)
                {
                    return new Direction(total, null);
                }

                await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                total += read;
                // Network streams do not buffer; upgraded HTTP streams may: push each chunk out now.
                await to.FlushAsync(cancellationToken);
            }
        }
        catch (Exception ex) when (IsExpected(ex))
        {
            return new Direction(total, ex is OperationCanceledException ? null : ex.Message);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static bool IsExpected(Exception ex) =>
        ex is IOException or OperationCanceledException or ObjectDisposedException or System.Net.Sockets.SocketException
            or System.Net.WebSockets.WebSocketException or InvalidOperationException;
}
