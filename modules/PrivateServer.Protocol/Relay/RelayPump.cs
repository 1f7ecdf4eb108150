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
/// direction. No per-chunk allocation, no per-chunk logging. When a direction ends, its target
/// learns it: a <see cref="FramedRelayStream"/> gets the end frame and the other direction goes on
/// until that side's end comes back (so the connection under it can carry the next stream); a plain
/// stream is not read any more (the other direction stops, and the caller, who owns the streams,
/// closes both). A direction that does not end within 5 s after the first is cancelled.
/// </summary>
public static class RelayPump
{
    public const int BufferSize = 128 * 1024;

    /// <summary>How long the second direction may go on after the first ended.</summary>
    private static readonly TimeSpan SecondDirectionGrace = TimeSpan.FromSeconds(5);

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
        using var all = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var stopReadingA = CancellationTokenSource.CreateLinkedTokenSource(all.Token);
        using var stopReadingB = CancellationTokenSource.CreateLinkedTokenSource(all.Token);
        var forward = RunDirectionAsync(a, b, aToB, stopReadingA.Token, all.Token);
        var backward = RunDirectionAsync(b, a, bToA, stopReadingB.Token, all.Token);
        var first = await Task.WhenAny(forward, backward);
        var (told, second, stopSecond) = first == forward ? (b, backward, stopReadingB) : (a, forward, stopReadingA);
        if (told is not FramedRelayStream { IsBroken: false, EndSent: true })
        {
            // A plain stream (or a broken one) cannot say that it is done: stop reading it. Between two plain streams
            // stop everything, writes too; a framed side still gets its end frame written.
            await (a is FramedRelayStream || b is FramedRelayStream ? stopSecond : all).CancelAsync();
        }

        var endedBy = cancellationToken.IsCancellationRequested ? RelayEnd.Cancelled : first == forward ? RelayEnd.SideA : RelayEnd.SideB;
        var error = (await first).Error;
        if (await Task.WhenAny(second, Task.Delay(SecondDirectionGrace, CancellationToken.None)) != second)
        {
            // Cancellation does not always interrupt a pending socket read: closing is the caller's job,
            // but we must not leave the survivor running on streams about to be disposed for long.
            await all.CancelAsync();
            await Task.WhenAny(second, Task.Delay(SecondDirectionGrace, CancellationToken.None));
        }

        var forwardResult = forward.IsCompleted ? await forward : new Direction(0, null);
        var backwardResult = backward.IsCompleted ? await backward : new Direction(0, null);
        return new RelayResult(endedBy, forwardResult.Bytes, backwardResult.Bytes, error);
    }

    private readonly record struct Direction(long Bytes, string? Error);

    private static async Task<Direction> RunDirectionAsync(
        Stream from, Stream to, Func<Stream, Stream, CancellationToken, Task<long>>? copy, CancellationToken stopReading, CancellationToken stopAll)
    {
        var result = copy is null ? await CopyAsync(from, to, stopReading, stopAll) : await CountedAsync(copy(from, to, stopReading));
        if (to is FramedRelayStream framed)
        {
            try
            {
                await framed.EndAsync(stopAll);
            }
            catch (Exception ex) when (IsExpected(ex))
            {
                // The other side is gone; the connection is not reused.
            }
        }

        return result;
    }

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

    private static async Task<Direction> CopyAsync(Stream from, Stream to, CancellationToken stopReading, CancellationToken stopAll)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        // Into a frame, the bytes are read straight behind the room for its header, one frame at a time (reading more at
        // once and sending it as several frames measured the same: 0.98× / 1.01× the MB/s, alternating in one run).
        var framed = to as FramedRelayStream;
        var (offset, window) = framed is null ? (0, BufferSize) : (FramedRelayStream.HeaderLength, FramedRelayStream.MaximumPayload);
        long total = 0;
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer.AsMemory(offset, window), stopReading);
                if (read == 0)
                {
                    return new Direction(total, null);
                }

                try
                {
                    if (framed is not null)
                    {
                        await framed.WriteFrameAsync(buffer.AsMemory(0, offset + read), stopAll);
                    }
                    else
                    {
                        await to.WriteAsync(buffer.AsMemory(0, read), stopAll);
                        // Network streams do not buffer; upgraded HTTP streams may: push each chunk out now.
                        await to.FlushAsync(stopAll);
                    }
                }
                catch (Exception ex) when (IsExpected(ex) && from is FramedRelayStream source && !stopAll.IsCancellationRequested)
                {
                    // Nobody takes the rest: read it up to the other side's end, so that its connection stays good.
                    await DrainAsync(source, buffer, stopReading);
                    return new Direction(total, ex.Message);
                }

                total += read;
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

    private static async Task DrainAsync(FramedRelayStream source, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            while (await source.ReadAsync(buffer, cancellationToken) > 0)
            {
                // Dropped.
            }
        }
        catch (Exception ex) when (IsExpected(ex))
        {
            // The source broke too; its connection is not reused.
        }
    }

    private static bool IsExpected(Exception ex) =>
        ex is IOException or OperationCanceledException or ObjectDisposedException or System.Net.Sockets.SocketException
            or System.Net.WebSockets.WebSocketException or InvalidOperationException;
}
