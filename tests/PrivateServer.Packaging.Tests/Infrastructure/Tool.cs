using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.Packaging.Tests.Infrastructure;

/// <summary>Runs the packaging tools (dpkg-deb, lintian, systemd-analyze, msiinfo...) as a user would.</summary>
public static class Tool
{
    /// <summary>Runs a program to its end; a non-zero exit fails the test with everything it printed.</summary>
    public static async Task<ProcessResult> CheckAsync(string file, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var list = arguments.ToList();
        var result = await ChildProcess.RunAsync(file, list, cancellationToken);
        result.ExitCode.Should().Be(0, $"{file} {string.Join(' ', list)} should succeed:\n{result.Stdout}\n{result.Stderr}");
        return result;
    }

    /// <summary>A fresh temporary folder, removed with the returned handle.</summary>
    public static TemporaryFolder TemporaryFolder() => new(Directory.CreateTempSubdirectory("privateserver-packaging-").FullName);
}

public sealed class TemporaryFolder(string path) : IDisposable
{
    public string Path { get; } = path;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
