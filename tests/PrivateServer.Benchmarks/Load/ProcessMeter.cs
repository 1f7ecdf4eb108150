using System.Globalization;

namespace PrivateServer.Benchmarks.Load;

/// <summary>Resident memory and CPU time of a process, read from /proc.</summary>
internal sealed class ProcessMeter(int pid)
{
    // USER_HZ: the unit of utime/stime in /proc/PID/stat; 100 on every Linux ABI .NET runs on.
    private const double TicksPerSecond = 100;

    /// <summary>Resident set size in bytes (VmRSS).</summary>
    public long ResidentBytes()
    {
        var line = File.ReadLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status")
            .First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>User + system CPU time used so far.</summary>
    public TimeSpan CpuTime()
    {
        var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        // The command name may contain spaces: fields are counted after its closing parenthesis.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }

    /// <summary>User + system CPU time used so far by all of <paramref name="pids"/> (a process gone meanwhile counts nothing).</summary>
    public static TimeSpan CpuTime(IEnumerable<int> pids)
    {
        ArgumentNullException.ThrowIfNull(pids);
        var total = TimeSpan.Zero;
        foreach (var pid in pids)
        {
            try
            {
                total += new ProcessMeter(pid).CpuTime();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Exited.
            }
        }

        return total;
    }

    /// <summary><paramref name="pid"/> and every process below it (children, their children, …), read from /proc.</summary>
    public static IReadOnlyList<int> WithDescendants(int pid)
    {
        var parents = new Dictionary<int, List<int>>();
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var child))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(folder, "stat"));
                var parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                if (!parents.TryGetValue(parent, out var children))
                {
                    parents[parent] = children = [];
                }

                children.Add(child);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Exited while listing.
            }
        }

        var all = new List<int> { pid };
        for (var i = 0; i < all.Count; i++)
        {
            all.AddRange(parents.GetValueOrDefault(all[i]) ?? []);
        }

        return all;
    }

    /// <summary>CPU used over <paramref name="window"/>, as a percentage of one core.</summary>
    public async Task<double> CpuPercentAsync(TimeSpan window, CancellationToken cancellationToken)
    {
        var before = CpuTime();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Task.Delay(window, cancellationToken);
        var used = CpuTime() - before;
        return 100 * used.TotalSeconds / clock.Elapsed.TotalSeconds;
    }
}
