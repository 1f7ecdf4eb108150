using PrivateServer.HostModule.Agent;
using PrivateServer.Protocol.Files;

namespace PrivateServer.HostModule.Tests.Agent;

public sealed class FileRootTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("fileroot-").FullName;

    [Theory]
    [InlineData("../x", "'.' and '..' are not allowed")]
    [InlineData("a/../../x", "'.' and '..' are not allowed")]
    [InlineData("./x", "'.' and '..' are not allowed")]
    [InlineData("/etc/passwd", "absolute paths are not allowed")]
    [InlineData("C:/Windows/win.ini", "absolute paths are not allowed")]
    [InlineData("\\\\server\\share", "absolute paths are not allowed")]
    [InlineData("a\\b", "use '/' between folders")]
    [InlineData("a\u0000b", "control character")]
    [InlineData("", "a file name is needed")]
    public void Resolve_RefusesPathsThatCouldLeaveTheFolder(string path, string why)
    {
        var root = new FileRoot(_folder);
        root.Invoking(r => r.Resolve(path, allowRoot: false)).Should().Throw<FileTransferException>().WithMessage($"*{why}*");
    }

    [Fact]
    public void Resolve_RefusesSymbolicLinks_AnywhereOnThePath()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "docs"));
        File.CreateSymbolicLink(Path.Combine(_folder, "docs", "etc"), "/etc");
        File.CreateSymbolicLink(Path.Combine(_folder, "passwd"), "/etc/passwd");
        var root = new FileRoot(_folder);

        root.Invoking(r => r.Resolve("docs/etc/passwd", allowRoot: false)).Should().Throw<FileTransferException>().WithMessage("*'docs/etc' is a symbolic link*");
        root.Invoking(r => r.Resolve("passwd", allowRoot: false)).Should().Throw<FileTransferException>().WithMessage("*'passwd' is a symbolic link*");
    }

    [Fact]
    public void Resolve_KeepsGoodPathsInsideTheFolder()
    {
        var root = new FileRoot(_folder);

        root.Resolve("inbox//report.pdf", allowRoot: false).Should().Be(Path.Combine(root.Root, "inbox", "report.pdf"));
        root.Resolve("", allowRoot: true).Should().Be(root.Root);
        FileRoot.Display("inbox//report.pdf/").Should().Be("inbox/report.pdf");
    }

    [Fact]
    public void Constructor_RefusesAMissingFolder()
    {
        var act = () => new FileRoot(Path.Combine(_folder, "missing"));
        act.Should().Throw<ArgumentException>().WithMessage("--files: *is not a folder");
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
