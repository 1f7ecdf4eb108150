using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.Packaging.Tests.Infrastructure;

/// <summary>
/// A throw-away Debian 12 root (the debootstrap archive of scripts/make-test-root.sh, unpacked into a
/// temporary folder) that the real dpkg installs the packages into, maintainer scripts and all. Why a
/// chroot and not <c>dpkg --root</c>: the maintainer scripts must run inside the root (adduser,
/// runuser, dpkg-statoverride, deb-systemd-helper act on its /etc), and the installed program must run
/// there against the root's own libraries — only a chroot gives both. Every command runs chrooted in a
/// private mount namespace with /proc and /dev, so nothing stays mounted when it ends; the network is the
/// machine's loopback.
/// </summary>
public sealed class DebianRoot : IDisposable
{
    private static readonly Dictionary<string, string> Environment = new()
    {
        ["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin",
        ["HOME"] = "/root",
        ["DEBIAN_FRONTEND"] = "noninteractive",
    };

    private DebianRoot(string path) => Path = path;

    public string Path { get; }

    public static async Task<DebianRoot> CreateAsync(CancellationToken cancellationToken)
    {
        var path = Directory.CreateTempSubdirectory("privateserver-root-").FullName;
        var root = new DebianRoot(path);
        try
        {
            await Tool.CheckAsync("tar", ["-C", path, "-xf", Packages.TestRootArchive], cancellationToken);
            return root;
        }
        catch
        {
            root.Dispose();
            throw;
        }
    }

    /// <summary>Where a path inside the root is on this machine.</summary>
    public string Outside(string inside) => System.IO.Path.Combine(Path, inside.TrimStart('/'));

    /// <summary>Copies a file into the root's /tmp and returns its path inside.</summary>
    public string CopyIn(string file)
    {
        var inside = "/tmp/" + System.IO.Path.GetFileName(file);
        File.Copy(file, Outside(inside), overwrite: true);
        return inside;
    }

    /// <summary>Runs a command inside the root (as <paramref name="user"/>, else root) to its end.</summary>
    public async Task<ProcessResult> RunAsync(IReadOnlyList<string> command, CancellationToken cancellationToken, string? user = null)
    {
        await using var child = Start(command, user);
        child.CloseInput();
        return await child.WaitForExitAsync(cancellationToken);
    }

    /// <summary>Like <see cref="RunAsync"/>, and a non-zero exit fails the test with the output.</summary>
    public async Task<ProcessResult> CheckAsync(IReadOnlyList<string> command, CancellationToken cancellationToken, string? user = null)
    {
        var result = await RunAsync(command, cancellationToken, user);
        result.ExitCode.Should().Be(0, $"'{string.Join(' ', command)}' in the root should succeed:\n{result.Stdout}\n{result.Stderr}");
        return result;
    }

    /// <summary>
    /// Starts a long-running command inside the root. unshare execs sh, sh execs chroot, chroot execs the
    /// command: it is one process, so a SIGTERM reaches the program itself, as systemd's would.
    /// </summary>
    public ChildProcess Start(IReadOnlyList<string> command, string? user = null)
    {
        var chroot = user is null ? "exec chroot" : $"exec chroot --userspec={user}:{user}";
        var script = $"mount -t proc proc \"$0/proc\" && mount --rbind /dev \"$0/dev\" && {chroot} \"$0\" \"$@\"";
        return ChildProcess.Start("unshare", ["--mount", "--propagation", "private", "sh", "-c", script, Path, .. command], Environment);
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
