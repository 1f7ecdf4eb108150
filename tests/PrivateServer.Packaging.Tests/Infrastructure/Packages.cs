using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace PrivateServer.Packaging.Tests.Infrastructure;

/// <summary>What <c>make package</c> left in out/: the packages, the published programs they were built from, the build scripts.</summary>
public static partial class Packages
{
    public static string Root { get; } = FindRepositoryRoot();

    /// <summary>The version in Directory.Build.props, which names the packages.</summary>
    public static string Version { get; } = VersionPattern().Match(File.ReadAllText(Path.Combine(Root, "Directory.Build.props"))).Groups[1].Value;

    public static string Deb(string name) => Existing(Path.Combine(Root, "out", $"{name}_{Version}_amd64.deb"), "make deb");

    public static string Msi(string name) => Existing(Path.Combine(Root, "out", $"{name}-{Version}-x64.msi"), "make msi");

    /// <summary>A self-contained program from <c>make publish</c> (what the packages ship).</summary>
    public static string Published(string rid, string file) => Existing(Path.Combine(Root, "out", "publish", rid, file), "make package");

    /// <summary>The supporter module (not packaged; <c>make build</c>), to log in as a user would.</summary>
    public static string Supporter => Existing(Path.Combine(Root, "out", "privateserver-supporter"), "make build");

    public static string DebBuildScript => Path.Combine(Root, "packaging", "debian", "build.sh");

    public static string MsiBuildScript => Path.Combine(Root, "packaging", "msi", "build.sh");

    /// <summary>The debootstrap root of scripts/make-test-root.sh (make test makes it once).</summary>
    public static string TestRootArchive => Existing(Path.Combine(Root, "out", "test-root", "bookworm.tar"), "scripts/make-test-root.sh");

    public static string Sha256(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static string Existing(string path, string how) =>
        File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing: run '{how}' first (make test does).");

    private static string FindRepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "PrivateServer.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("PrivateServer.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex("<Version>([^<]+)</Version>")]
    private static partial Regex VersionPattern();
}
