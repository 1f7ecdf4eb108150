namespace PrivateServer.Packaging.Tests.Infrastructure;

/// <summary>The settings of an installed unit file that the tests act on, read as systemd reads them (one key per line).</summary>
public sealed class SystemdUnit(IReadOnlyList<string> lines)
{
    public static SystemdUnit Read(string path) => new(File.ReadAllLines(path));

    public IEnumerable<string> Values(string key) =>
        lines.Where(l => l.StartsWith(key + "=", StringComparison.Ordinal)).Select(l => l[(key.Length + 1)..]);

    public string Value(string key) => Values(key).Should().ContainSingle($"the unit sets {key} once").Subject;

    /// <summary>ExecStart split into words (the units use no quoting).</summary>
    public IReadOnlyList<string> ExecStart => Value("ExecStart").Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
