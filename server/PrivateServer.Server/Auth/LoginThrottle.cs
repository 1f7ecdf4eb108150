using System.Collections.Concurrent;
using System.Globalization;
using System.Net;

namespace PrivateServer.Server.Auth;

/// <summary>What the throttle says about an attempt before any password is checked.</summary>
/// <param name="WaitFor">Null: go ahead. Otherwise how long until the next attempt may be checked.</param>
/// <param name="Blocked">The wait is a 15-minute block, not a delay.</param>
/// <param name="BlockStarted">This very attempt (one too early too many) started the block.</param>
public readonly record struct LoginVerdict(TimeSpan? WaitFor, bool Blocked, bool BlockStarted = false)
{
    public static LoginVerdict Go => new(null, false);
}

/// <summary>One account name or source address that is being slowed down or blocked (what admins see).</summary>
public sealed record LoginLock(string Kind, string Subject, int Failures, DateTimeOffset LastFailure, DateTimeOffset? BlockedUntil, DateTimeOffset? NextAttempt);

/// <summary>
/// Brute-force defence for sign-ins, per account name and per source address alike: 5 failures in a row are free, each
/// further attempt has to wait twice as long as the one before (1, 2, 4, 8, 16 s after the last failure), and the 10th
/// failure blocks for 15 minutes. An attempt that comes too early is refused without checking its password and counts
/// against its address only: one address hammering a name blocks itself, while the name's owner can still sign in from
/// elsewhere after the short delay. Account names are tracked whether the account exists or not, so nothing tells them
/// apart. Failures are forgotten 15 minutes after the last one; a success clears its account name. Kept in memory: a
/// restart forgets them (the attacker cannot restart the appliance). An IPv6 address counts as its /64, so rotating
/// through one's own prefix gains nothing. The schedule is the session-code limiter's (<c>CodeAttemptLimiter</c>).
/// </summary>
public sealed class LoginThrottle(TimeProvider time)
{
    public const int FreeFailures = 5;
    public const int BlockAfter = 10;
    public const string AccountKind = "account";
    public const string AddressKind = "address";

    /// <summary>How long a block lasts, and how long failures are remembered.</summary>
    public static readonly TimeSpan BlockTime = TimeSpan.FromMinutes(15);

    // Bounded: beyond this many subjects the oldest quiet ones are forgotten first, so a flood of names cannot fill memory.
    private const int MaxSubjects = 100_000;

    private readonly ConcurrentDictionary<string, Subject> _subjects = new(StringComparer.Ordinal);

    private sealed class Subject
    {
        public int Failures;
        public DateTimeOffset LastFailure;
        public DateTimeOffset? BlockedUntil;
    }

    /// <summary>Whether an attempt for <paramref name="account"/> from <paramref name="source"/> may be checked now; a refusal counts against the address.</summary>
    public LoginVerdict Check(string? account, IPAddress? source)
    {
        var now = time.GetUtcNow();
        var address = Verdict(AddressKey(source), now);
        var name = Verdict(AccountKey(account), now);
        var verdict = Later(address, name);
        if (verdict.WaitFor is not null && AddressKey(source) is { } key && Count(key, now))
        {
            // Knocking while told to wait is itself a failure of this address (and only of it); this one started its block.
            return new LoginVerdict(BlockTime, Blocked: true, BlockStarted: true);
        }

        return verdict;
    }

    /// <summary>A checked password was wrong (or the account disabled): counts against both; true when this failure started a block.</summary>
    public bool Failed(string? account, IPAddress? source)
    {
        var now = time.GetUtcNow();
        var blocked = false;
        foreach (var key in new[] { AccountKey(account), AddressKey(source) })
        {
            if (key is not null)
            {
                blocked |= Count(key, now);
            }
        }

        return blocked;
    }

    /// <summary>A successful sign-in clears its account name (not its address: a valid account must not wash an address clean).</summary>
    public void Succeeded(string account)
    {
        if (AccountKey(account) is { } key)
        {
            _subjects.TryRemove(key, out _);
        }
    }

    /// <summary>Account names and addresses with failures that still count, most recent first.</summary>
    public IReadOnlyList<LoginLock> Locks()
    {
        var now = time.GetUtcNow();
        var locks = new List<LoginLock>();
        foreach (var (key, subject) in _subjects)
        {
            lock (subject)
            {
                if (Expired(subject, now) || subject.Failures < FreeFailures)
                {
                    continue;
                }

                var separator = key.IndexOf(':', StringComparison.Ordinal);
                var next = subject.BlockedUntil is null ? subject.LastFailure + Delay(subject.Failures) : (DateTimeOffset?)null;
                locks.Add(new LoginLock(key[..separator], key[(separator + 1)..], subject.Failures, subject.LastFailure, subject.BlockedUntil, next));
            }
        }

        return [.. locks.OrderByDescending(l => l.LastFailure)];
    }

    /// <summary>Lifts the lock and forgets the failures of an account name or a source address; false when there was nothing.</summary>
    public bool Unlock(string nameOrAddress)
    {
        ArgumentNullException.ThrowIfNull(nameOrAddress);
        var subject = nameOrAddress.Trim();
        var key = IPAddress.TryParse(subject, out var address) ? AddressKey(address)
            : subject.EndsWith("/64", StringComparison.Ordinal) && IPAddress.TryParse(subject[..^3], out _) ? AddressKind + ":" + subject
            : AccountKey(subject);
        return key is not null && _subjects.TryRemove(key, out _);
    }

    /// <summary>The wait after <paramref name="failures"/> failures: none for the first 5, then 1, 2, 4, 8, 16 s.</summary>
    public static TimeSpan Delay(int failures) =>
        failures < FreeFailures ? TimeSpan.Zero : TimeSpan.FromSeconds(1 << Math.Min(failures - FreeFailures, 10));

    private LoginVerdict Verdict(string? key, DateTimeOffset now)
    {
        if (key is null || !_subjects.TryGetValue(key, out var subject))
        {
            return LoginVerdict.Go;
        }

        lock (subject)
        {
            if (Expired(subject, now))
            {
                return LoginVerdict.Go;
            }

            if (subject.BlockedUntil is { } until && until > now)
            {
                return new LoginVerdict(until - now, Blocked: true);
            }

            var next = subject.LastFailure + Delay(subject.Failures);
            return next > now ? new LoginVerdict(next - now, Blocked: false) : LoginVerdict.Go;
        }
    }

    /// <summary>Counts one failure; true when it started a block.</summary>
    private bool Count(string key, DateTimeOffset now)
    {
        if (_subjects.Count >= MaxSubjects)
        {
            Forget(now);
        }

        var subject = _subjects.GetOrAdd(key, _ => new Subject());
        lock (subject)
        {
            if (subject.BlockedUntil is { } until && until > now)
            {
                return false;
            }

            if (Expired(subject, now))
            {
                subject.Failures = 0;
                subject.BlockedUntil = null;
            }

            subject.Failures++;
            subject.LastFailure = now;
            if (subject.Failures >= BlockAfter)
            {
                subject.BlockedUntil = now + BlockTime;
                return true;
            }

            return false;
        }
    }

    private void Forget(DateTimeOffset now)
    {
        foreach (var (key, subject) in _subjects)
        {
            bool expired;
            lock (subject)
            {
                expired = Expired(subject, now);
            }

            if (expired)
            {
                _subjects.TryRemove(key, out _);
            }
        }

        // Still full of live subjects (a flood): forget the quietest half rather than grow without bound.
        if (_subjects.Count >= MaxSubjects)
        {
            foreach (var key in _subjects.OrderBy(s => s.Value.LastFailure).Take(MaxSubjects / 2).Select(s => s.Key).ToList())
            {
                _subjects.TryRemove(key, out _);
            }
        }
    }

    /// <summary>Failures count until 15 minutes after the last one, a block until it ends.</summary>
    private static bool Expired(Subject subject, DateTimeOffset now) =>
        subject.BlockedUntil is { } until ? until <= now : now - subject.LastFailure > BlockTime;

    private static LoginVerdict Later(LoginVerdict a, LoginVerdict b) =>
        (a.WaitFor ?? TimeSpan.Zero) >= (b.WaitFor ?? TimeSpan.Zero) ? a : b;

    private static string? AccountKey(string? account)
    {
        var name = account?.Trim().ToLowerInvariant();
        return string.IsNullOrEmpty(name) ? null : AccountKind + ":" + name[..Math.Min(name.Length, 128)];
    }

    /// <summary>An IPv4 address, or an IPv6 address's /64 (one subscriber's prefix), as the session-code limiter counts them.</summary>
    private static string? AddressKey(IPAddress? source) =>
        source is null ? null : AddressKind + ":" + AdHoc.CodeAttemptLimiter.Key(source);

    /// <summary>"3 min" or "12 s": how long to wait, for people.</summary>
    public static string WaitText(TimeSpan wait) =>
        wait >= TimeSpan.FromMinutes(1)
            ? ((int)Math.Ceiling(wait.TotalMinutes)).ToString(CultureInfo.InvariantCulture) + " min"
            : Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture) + " s";
}
