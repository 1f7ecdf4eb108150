using System.Runtime.InteropServices;

namespace PrivateServer.Benchmarks.Load;

/// <summary>
/// Wakes each of many chatting sessions once per interval, each at its own phase, on a clock with sub-millisecond
/// resolution. .NET's timers (<c>PeriodicTimer</c>, <c>Task.Delay</c>) fire on the coarse monotonic clock, which ticks
/// every 4 ms on this kernel (HZ=250): 200 sessions every 50 ms then sent in bursts of 16 and more on each tick (84 % of
/// the gaps between two sends under 0.05 ms), as if they ran on one machine in lockstep, and the tail measured the
/// burst's queue. Sessions of 200 supporters start independently: here each gets a phase drawn once from a seeded
/// generator, and one thread sleeps until the next phase is due (<c>clock_nanosleep</c>, absolute time) and releases
/// that session. A session still busy with its last round trip when its phase comes gets the tick when it asks (one
/// tick kept, as <c>PeriodicTimer</c> does).
/// </summary>
internal sealed partial class ChatterPacer : IDisposable
{
    private const int ClockMonotonic = 1; // CLOCK_MONOTONIC
    private const int AbsoluteTime = 1; // TIMER_ABSTIME
    private const int Interrupted = 4; // EINTR
    private const long NanosecondsPerSecond = 1_000_000_000;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc")]
    private static partial int clock_gettime(int clock, out TimeSpec time);

    [LibraryImport("libc")]
    private static partial int clock_nanosleep(int clock, int flags, in TimeSpec request, IntPtr remaining);

    private readonly SemaphoreSlim[] _ticks;
    private readonly (long Phase, int Session)[] _schedule;
    private readonly long _interval;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _thread;

    public ChatterPacer(int sessions, TimeSpan interval, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sessions);
        _interval = interval.Ticks * (NanosecondsPerSecond / TimeSpan.TicksPerSecond);
        var random = new Random(seed);
        _schedule = Enumerable.Range(0, sessions).Select(i => ((long)(random.NextDouble() * _interval), i)).Order().ToArray();
        _ticks = Enumerable.Range(0, sessions).Select(_ => new SemaphoreSlim(0, 1)).ToArray();
        _thread = new Thread(Run) { IsBackground = true, Name = "chatter pacer" };
        _thread.Start();
    }

    /// <summary>Completes when it is <paramref name="session"/>'s turn again.</summary>
    public Task WaitAsync(int session, CancellationToken cancellationToken) => _ticks[session].WaitAsync(cancellationToken);

    private void Run()
    {
        var start = Now();
        for (long cycle = 0; !_stopping.IsCancellationRequested; cycle++)
        {
            foreach (var (phase, session) in _schedule)
            {
                var due = start + (cycle * _interval) + phase;
                var request = new TimeSpec { Seconds = due / NanosecondsPerSecond, Nanoseconds = due % NanosecondsPerSecond };
                int error;
                while ((error = clock_nanosleep(ClockMonotonic, AbsoluteTime, request, IntPtr.Zero)) == Interrupted)
                {
                    // A signal woke the thread: the same absolute time again.
                }

                if (error != 0)
                {
                    throw new InvalidOperationException($"clock_nanosleep failed with error {error}");
                }

                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                if (_ticks[session].CurrentCount == 0)
                {
                    _ticks[session].Release();
                }
            }
        }
    }

    private static long Now()
    {
        if (clock_gettime(ClockMonotonic, out var now) != 0)
        {
            throw new InvalidOperationException("clock_gettime(CLOCK_MONOTONIC) failed");
        }

        return (now.Seconds * NanosecondsPerSecond) + now.Nanoseconds;
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _thread.Join();
        _stopping.Dispose();
        foreach (var tick in _ticks)
        {
            tick.Dispose();
        }
    }
}
