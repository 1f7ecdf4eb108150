using System.Globalization;

namespace PrivateServer.Benchmarks.Load;

/// <summary>
/// Over one transfer: the CPU time the bench process itself used (its client and bulk service — every contender's
/// source and sink) and how busy the whole machine was (all cores, from /proc/stat, kernel work included).
/// </summary>
internal sealed class MachineCpuMeter
{
    // USER_HZ: the unit of /proc/stat, as of /proc/PID/stat.
    private const double TicksPerSecond = 100;

    private readonly TimeSpan _benchStart;
    private readonly (long Busy, long All) _machineStart;

    private MachineCpuMeter()
    {
        _benchStart = new ProcessMeter(Environment.ProcessId).CpuTime();
        _machineStart = ReadMachine();
    }

    public static MachineCpuMeter Start() => new();

    /// <summary>
    /// Since the start: the bench process's CPU time, the busy time of all the machine's cores together, and which share
    /// of their time that was (0–1).
    /// </summary>
    public (TimeSpan Bench, TimeSpan Machine, double MachineShare) Used()
    {
        var bench = new ProcessMeter(Environment.ProcessId).CpuTime() - _benchStart;
        var (busy, all) = ReadMachine();
        var ticks = busy - _machineStart.Busy;
        var share = all > _machineStart.All ? ticks / (double)(all - _machineStart.All) : double.NaN;
        return (bench, TimeSpan.FromSeconds(ticks / TicksPerSecond), share);
    }

    /// <summary>
    /// The first line of /proc/stat: ticks of all cores in user, nice, system, idle, iowait, irq, softirq, steal (guest
    /// time is counted in user already). Busy is everything but idle and iowait.
    /// </summary>
    private static (long Busy, long All) ReadMachine()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long all = 0;
        long idle = 0;
        for (var i = 1; i <= 8 && i < fields.Length; i++)
        {
            var ticks = long.Parse(fields[i], CultureInfo.InvariantCulture);
            all += ticks;
            if (i is 4 or 5)
            {
                idle += ticks;
            }
        }

        return (all - idle, all);
    }
}
