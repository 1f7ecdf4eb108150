using System.Diagnostics;
using System.Globalization;
using System.Net.NetworkInformation;
using System.Runtime.InteropServices;
using System.Text;
using PrivateServer.Protocol;
using PrivateServer.Protocol.SystemInfo;

namespace PrivateServer.HostModule.Agent;

/// <summary>
/// Gathers the read-only <see cref="SystemReport"/> with .NET's own APIs and, on Linux, /proc and
/// /run/utmp; services from systemd (systemctl) or the Windows service manager. Nothing is changed,
/// nothing is started but <c>systemctl list-units</c>.
/// </summary>
internal static class SystemInformation
{
    private const int TopProcesses = 15;
    private static readonly TimeSpan CpuSample = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan ServiceListTimeout = TimeSpan.FromSeconds(5);

    public static async Task<SystemReport> GatherAsync(CancellationToken cancellationToken)
    {
        var notes = new List<string>();
        var (byCpu, byMemory) = await ProcessesAsync(cancellationToken);
        return new SystemReport(
            Environment.MachineName,
            RuntimeInformation.OSDescription,
            RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant(),
            Environment.TickCount64 / 1000,
            Cpu(),
            Memory(),
            Disks(),
            Networks(notes),
            Users(notes),
            byCpu,
            byMemory,
            await ServicesAsync(notes, cancellationToken),
            ProtocolInfo.ProductVersion(typeof(SystemInformation).Assembly),
            DateTimeOffset.UtcNow,
            notes);
    }

    private static CpuReport Cpu()
    {
        var model = OperatingSystem.IsLinux()
            ? ProcField("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString()
            : Environment.GetEnvironmentVariable("PROCESSOR_IDENTIFIER") ?? RuntimeInformation.ProcessArchitecture.ToString();
        IReadOnlyList<double>? load = null;
        if (OperatingSystem.IsLinux() && TryRead("/proc/loadavg") is { } text)
        {
            load = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(3)
                .Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToList();
        }

        return new CpuReport(model.Trim(), Environment.ProcessorCount, load);
    }

    private static MemoryReport Memory()
    {
        if (OperatingSystem.IsLinux() && Kib("MemTotal") is { } total)
        {
            return new MemoryReport(total, Kib("MemAvailable") ?? 0);
        }

        var gc = GC.GetGCMemoryInfo();
        return new MemoryReport(gc.TotalAvailableMemoryBytes, Math.Max(0, gc.TotalAvailableMemoryBytes - gc.MemoryLoadBytes));

        static long? Kib(string field) =>
            ProcField("/proc/meminfo", field) is { } value && long.TryParse(value.Replace("kB", string.Empty, StringComparison.Ordinal).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var kib)
                ? kib * 1024
                : null;
    }

    private static List<DiskReport> Disks() =>
        [.. DriveInfo.GetDrives()
            .Where(d => d.DriveType == DriveType.Fixed && SafeReady(d))
            .Select(d => new DiskReport(d.Name, d.DriveFormat, d.TotalSize, d.AvailableFreeSpace))
            .Where(d => d.TotalBytes > 0)
            .DistinctBy(d => d.Mount)];

    private static bool SafeReady(DriveInfo drive)
    {
        try
        {
            return drive.IsReady && drive.TotalSize > 0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static List<NetworkReport> Networks(List<string> notes)
    {
        try
        {
            return [.. NetworkInterface.GetAllNetworkInterfaces().Select(n => new NetworkReport(
                n.Name,
                n.NetworkInterfaceType.ToString(),
                n.OperationalStatus.ToString(),
                n.GetPhysicalAddress() is { } mac && mac.GetAddressBytes().Length > 0 ? string.Join(':', mac.GetAddressBytes().Select(b => b.ToString("x2", CultureInfo.InvariantCulture))) : null,
                [.. n.GetIPProperties().UnicastAddresses.Select(a => $"{a.Address}/{a.PrefixLength}")]))];
        }
        catch (NetworkInformationException ex)
        {
            notes.Add("network interfaces: " + ex.Message);
            return [];
        }
    }

    /// <summary>Who is logged in: /run/utmp's USER_PROCESS records on Linux (user and terminal).</summary>
    private static List<string> Users(List<string> notes)
    {
        if (!OperatingSystem.IsLinux())
        {
            notes.Add("logged-in users: read on Linux only so far");
            return [];
        }

        const int RecordSize = 384;
        const int UserProcess = 7;
        byte[] utmp;
        try
        {
            utmp = File.ReadAllBytes("/run/utmp");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            notes.Add("logged-in users: /run/utmp cannot be read");
            return [];
        }

        var users = new List<string>();
        for (var offset = 0; offset + RecordSize <= utmp.Length; offset += RecordSize)
        {
            var record = utmp.AsSpan(offset, RecordSize);
            if (BitConverter.ToInt32(record[..4]) != UserProcess)
            {
                continue;
            }

            var line = Text(record.Slice(8, 32));
            var user = Text(record.Slice(44, 32));
            if (user.Length > 0)
            {
                users.Add(line.Length > 0 ? $"{user} ({line})" : user);
            }
        }

        return users;

        static string Text(ReadOnlySpan<byte> field)
        {
            var end = field.IndexOf((byte)0);
            return Encoding.UTF8.GetString(end < 0 ? field : field[..end]);
        }
    }

    /// <summary>The processes using most CPU over a short sample, and most memory.</summary>
    private static async Task<(List<ProcessReport> ByCpu, List<ProcessReport> ByMemory)> ProcessesAsync(CancellationToken cancellationToken)
    {
        var before = Snapshot();
        var started = Stopwatch.GetTimestamp();
        await Task.Delay(CpuSample, cancellationToken);
        var after = Snapshot();
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds * Environment.ProcessorCount;
        var reports = after.Values
            .Select(p => new ProcessReport(
                p.Id, p.Name,
                before.TryGetValue(p.Id, out var earlier) ? Math.Round(Math.Max(0, (p.Cpu - earlier.Cpu).TotalMilliseconds) * 100 / elapsed, 1) : 0,
                p.Memory))
            .ToList();
        return (
            [.. reports.OrderByDescending(p => p.CpuPercent).ThenByDescending(p => p.MemoryBytes).Take(TopProcesses)],
            [.. reports.OrderByDescending(p => p.MemoryBytes).Take(TopProcesses)]);
    }

    private static Dictionary<int, (int Id, string Name, TimeSpan Cpu, long Memory)> Snapshot()
    {
        var snapshot = new Dictionary<int, (int, string, TimeSpan, long)>();
        foreach (var process in Process.GetProcesses())
        {
            using (process)
            {
                try
                {
                    snapshot[process.Id] = (process.Id, process.ProcessName, process.TotalProcessorTime, process.WorkingSet64);
                }
                catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
                {
                    // Ended meanwhile, or not ours to read.
                }
            }
        }

        return snapshot;
    }

    private static async Task<List<ServiceReport>> ServicesAsync(List<string> notes, CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsWindows())
        {
            return WindowsServices();
        }

        if (!Directory.Exists("/run/systemd/system"))
        {
            notes.Add("services: systemd is not running here");
            return [];
        }

        try
        {
            var info = new ProcessStartInfo("systemctl", ["list-units", "--type=service", "--all", "--no-pager", "--plain", "--no-legend"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var systemctl = Process.Start(info) ?? throw new InvalidOperationException("systemctl did not start");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ServiceListTimeout);
            var output = await systemctl.StandardOutput.ReadToEndAsync(timeout.Token);
            await systemctl.WaitForExitAsync(timeout.Token);
            return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(' ', 5, StringSplitOptions.RemoveEmptyEntries))
                .Where(f => f.Length >= 4)
                .Select(f => new ServiceReport(f[0], $"{f[2]}/{f[3]}", f.Length > 4 ? f[4] : null))];
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or OperationCanceledException or IOException)
        {
            notes.Add("services: " + ex.Message);
            return [];
        }
    }

    [System.Runtime.Versioning.SupportedOSPlatform("windows")]
    private static List<ServiceReport> WindowsServices()
    {
        var services = new List<ServiceReport>();
        foreach (var service in System.ServiceProcess.ServiceController.GetServices())
        {
            using (service)
            {
                services.Add(new ServiceReport(service.ServiceName, service.Status.ToString(), service.DisplayName));
            }
        }

        return services;
    }

    private static string? ProcField(string file, string field) =>
        TryRead(file)?.Split('\n')
            .Select(l => l.Split(':', 2))
            .FirstOrDefault(p => p.Length == 2 && p[0].Trim() == field)?[1].Trim();

    private static string? TryRead(string file)
    {
        try
        {
            return File.ReadAllText(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
