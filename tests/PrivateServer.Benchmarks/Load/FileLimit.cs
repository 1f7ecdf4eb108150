using System.Runtime.InteropServices;

namespace PrivateServer.Benchmarks.Load;

/// <summary>Raises this process's open-file limit to its hard limit; the appliance and modules started from here inherit it.</summary>
internal static partial class FileLimit
{
    private const int ResourceOpenFiles = 7; // RLIMIT_NOFILE on Linux

    [StructLayout(LayoutKind.Sequential)]
    private struct ResourceLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getrlimit(int resource, out ResourceLimit limit);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setrlimit(int resource, in ResourceLimit limit);

    /// <summary>The soft limit after raising it.</summary>
    public static ulong RaiseToMaximum()
    {
        if (getrlimit(ResourceOpenFiles, out var limit) != 0)
        {
            throw new InvalidOperationException("getrlimit failed: " + Marshal.GetLastPInvokeErrorMessage());
        }

        if (limit.Current < limit.Maximum)
        {
            var raised = limit with { Current = limit.Maximum };
            if (setrlimit(ResourceOpenFiles, raised) != 0)
            {
                throw new InvalidOperationException("setrlimit failed: " + Marshal.GetLastPInvokeErrorMessage());
            }

            return raised.Current;
        }

        return limit.Current;
    }
}
