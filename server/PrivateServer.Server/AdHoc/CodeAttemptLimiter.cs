using System.Net;
using System.Net.Sockets;

namespace PrivateServer.Server.AdHoc;

/// <summary>What the limiter says about the next code attempt.</summary>
public readonly record struct AttemptVerdict(bool Allowed, TimeSpan RetryAfter, bool Blocked)
{
    public static AttemptVerdict Allow => new(true, TimeSpan.Zero, false);
}

/// <summary>
/// Makes guessing session codes hopeless. Failures (wrong, expired or used codes) are counted per
/// source address (an IPv6 address counts as its /64) and globally over a sliding 10-minute window.
/// Per address: 5 failures are free, then each next attempt must wait 1, 2, 4, 8, 16 s after the
/// last failure (an attempt before that is refused unseen and counts as a failure), and the 10th
/// failure blocks the address for 15 minutes. Globally (many addresses):
/// 50 failures are free, then attempts are spaced 1 s, doubling every further 50 failures, and 200
/// failures block code attempts for 15 minutes. An attempt that must wait is refused without
/// looking at the code, so nothing is learned from it; a correct code does not reset the count.
/// With 10⁸ codes one address gets at most 10 guesses per 15 minutes.
/// </summary>
public sealed class CodeAttemptLimiter(TimeProvider time)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan BlockDuration = TimeSpan.FromMinutes(15);
    public const int FreeFailuresPerSource = 5;
    public const int BlockAfterPerSource = 10;
    public const int FreeFailuresGlobal = 50;
    public const int BlockAfterGlobal = 200;
    private const int MaximumTrackedSources = 100_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Failures> _sources = new(StringComparer.Ordinal);
    private readonly Failures _global = new();

    /// <summary>May <paramref name="source"/> try a code now? Refused attempts are not failures themselves.</summary>
    public AttemptVerdict Check(IPAddress? source)
    {
        var key = Key(source);
        var now = time.GetUtcNow();
        lock (_lock)
        {
            var mine = _sources.TryGetValue(key, out var failures) ? failures.Verdict(now, FreeFailuresPerSource, BlockAfterPerSource, stepEvery: 1) : AttemptVerdict.Allow;
            if (!mine.Allowed)
            {
                // Trying again before the wait is over counts as a failure of this address (not globally):
                // a client that hammers instead of waiting is blocked after a few attempts.
                if (!mine.Blocked)
                {
                    failures!.Add(now, BlockAfterPerSource);
                }

                return mine;
            }

            return _global.Verdict(now, FreeFailuresGlobal, BlockAfterGlobal, stepEvery: 50);
        }
    }

    /// <summary>Counts a wrong, expired or used code from <paramref name="source"/>.</summary>
    public void RecordFailure(IPAddress? source)
    {
        var key = Key(source);
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (!_sources.TryGetValue(key, out var failures))
            {
                if (_sources.Count >= MaximumTrackedSources)
                {
                    Prune(now);
                }

                failures = new Failures();
                _sources[key] = failures;
            }

            failures.Add(now, BlockAfterPerSource);
            _global.Add(now, BlockAfterGlobal);
        }
    }

    /// <summary>An IPv4 address (also when mapped into IPv6), or the /64 network of an IPv6 address.</summary>
    internal static string Key(IPAddress? source)
    {
        if (source is null)
        {
            return "unknown";
        }

        if (source.IsIPv4MappedToIPv6)
        {
            source = source.MapToIPv4();
        }

        if (source.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return source.ToString();
        }

        var bytes = source.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes).ToString() + "/64";
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var (key, failures) in _sources.ToList())
        {
            if (failures.IsIdle(now))
            {
                _sources.Remove(key);
            }
        }
    }

    /// <summary>Failure times inside the window, and the end of a block.</summary>
    private sealed class Failures
    {
        private readonly Queue<DateTimeOffset> _times = new();
        private DateTimeOffset _blockedUntil;

        public void Add(DateTimeOffset now, int blockAfter)
        {
            Expire(now);
            _times.Enqueue(now);
            if (_times.Count >= blockAfter)
            {
                _blockedUntil = now + BlockDuration;
            }
        }

        public AttemptVerdict Verdict(DateTimeOffset now, int free, int blockAfter, int stepEvery)
        {
            if (_blockedUntil > now)
            {
                return new AttemptVerdict(false, _blockedUntil - now, Blocked: true);
            }

            if (_times.Count >= blockAfter)
            {
                // The block is over: start again from a clean slate.
                _times.Clear();
            }

            Expire(now);
            if (_times.Count < free)
            {
                return AttemptVerdict.Allow;
            }

            var doublings = Math.Min((_times.Count - free) / stepEvery, 10);
            var notBefore = _times.Last() + TimeSpan.FromSeconds(Math.Pow(2, doublings));
            return notBefore > now ? new AttemptVerdict(false, notBefore - now, Blocked: false) : AttemptVerdict.Allow;
        }

        public bool IsIdle(DateTimeOffset now)
        {
            Expire(now);
            return _times.Count == 0 && _blockedUntil <= now;
        }

        private void Expire(DateTimeOffset now)
        {
            while (_times.Count > 0 && now - _times.Peek() > Window)
            {
                _times.Dequeue();
            }
        }
    }
}
