namespace PrivateServer.Benchmarks.Load;

/// <summary>CPU time a path's processes have used since <see cref="Start"/>: all of them, and the first (the appliance) alone.</summary>
internal sealed class PathCpuMeter
{
    private readonly IReadOnlyList<int> _pids;
    private readonly (TimeSpan All, TimeSpan First) _start;

    private PathCpuMeter(IReadOnlyList<int> pids)
    {
        _pids = pids;
        _start = Read(pids);
    }

    /// <summary>A meter for the processes <paramref name="path"/> names now; null without a path.</summary>
    public static PathCpuMeter? Start(Func<IReadOnlyList<int>>? path) => path is null ? null : new PathCpuMeter(path());

    public (TimeSpan All, TimeSpan First) Used()
    {
        var (all, first) = Read(_pids);
        return (all - _start.All, first - _start.First);
    }

    /// <summary>Each process's /proc entry read once.</summary>
    private static (TimeSpan All, TimeSpan First) Read(IReadOnlyList<int> pids)
    {
        var first = ProcessMeter.CpuTime(pids.Take(1));
        return (first + ProcessMeter.CpuTime(pids.Skip(1)), first);
    }
}
