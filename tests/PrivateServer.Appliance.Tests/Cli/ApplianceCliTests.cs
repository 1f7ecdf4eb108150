using System.Collections;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PrivateServer.Appliance.Cli;

namespace PrivateServer.Appliance.Tests.Cli;

/// <summary>The command line in-process, on a data folder of its own, with no server running.</summary>
public sealed class ApplianceCliTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "ps-cli-" + Guid.NewGuid().ToString("N")[..12]);

    [Fact]
    public async Task Invoke_WhenVerbIsUnknown_PrintsOneLineAndExitsWithUsageError()
    {
        var (exit, stdout, stderr) = await RunAsync("frobnicate");

        exit.Should().Be(ApplianceCli.UsageError);
        stdout.Should().BeEmpty();
        stderr.TrimEnd().Split('\n').Should().ContainSingle().Which.Should().StartWith("privateserver: ");
    }

    [Fact]
    public async Task Init_WhenFolderIsNew_PrintsOnlyThePasswordOnStdoutAndFingerprintMatchesCa()
    {
        var (exit, stdout, stderr) = await RunAsync("init", "--data", _data, "--hostname", "rs.example.internal");
        var (fingerprintExit, fingerprint, _) = await RunAsync("ca", "fingerprint", "--data", _data);

        exit.Should().Be(0, stderr);
        stdout.Should().MatchRegex("^[A-Za-z0-9]{20}\n$");
        fingerprintExit.Should().Be(0);
        using var ca = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(_data, "ca", "ca.crt")));
        fingerprint.Should().Be(Convert.ToHexStringLower(SHA256.HashData(ca.RawData)) + "\n");
        stderr.Should().Contain(fingerprint.Trim());
    }

    [Fact]
    public async Task Init_WhenHostnameIsInvalid_RefusesAndCreatesNothing()
    {
        var (exit, stdout, stderr) = await RunAsync("init", "--data", _data, "--hostname", "bad name");

        exit.Should().Be(1);
        stdout.Should().BeEmpty();
        stderr.Should().StartWith("privateserver: --hostname:");
        Directory.Exists(Path.Combine(_data, "keys")).Should().BeFalse();
    }

    [Fact]
    public async Task UserAdd_WhenNoServerRuns_WritesDirectlyAndRefusesDuplicatesInOneLine()
    {
        await RunAsync("init", "--data", _data);

        var (exit, stdout, _) = await RunAsync("user", "add", "bob", "--role", "supporter", "--data", _data);
        var (againExit, againOut, againErr) = await RunAsync("user", "add", "BOB", "--role", "admin", "--data", _data);
        var (_, list, _) = await RunAsync("user", "list", "--data", _data);

        exit.Should().Be(0);
        stdout.Should().MatchRegex("^[A-Za-z0-9]{20}\n$");
        againExit.Should().Be(1);
        againOut.Should().BeEmpty();
        againErr.Should().Be("privateserver: user 'BOB' already exists\n");
        list.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')[0]).Should().Equal("admin", "bob");
    }

    [Fact]
    public async Task EnrollTokenCreate_WhenUsesIsZero_RefusesInOneLineAndPrintsNoToken()
    {
        await RunAsync("init", "--data", _data);
        await RunAsync("group", "add", "support", "--data", _data);

        var (exit, stdout, stderr) = await RunAsync("enroll-token", "create", "--group", "support", "--uses", "0", "--data", _data);
        var (manyExit, manyOut, manyErr) = await RunAsync("enroll-token", "create", "--group", "support", "--uses", "250", "--data", _data);

        exit.Should().Be(1);
        stdout.Should().BeEmpty();
        stderr.Should().Be("privateserver: an enrolment token may be used by 1 to 100000 hosts, not 0\n");
        manyExit.Should().Be(0, manyErr);
        manyOut.Should().MatchRegex("^[A-Za-z0-9_-]{43}\n$");
        manyErr.Should().StartWith("Enrolment token for up to 250 hosts in group 'support', valid until ");
    }

    [Fact]
    public async Task Run_WhenUrlIsPlainHttp_RefusesBeforeTouchingAnything()
    {
        await RunAsync("init", "--data", _data);

        var (exit, _, stderr) = await RunAsync("run", "--data", _data, "--urls", "http://127.0.0.1:8080");

        exit.Should().Be(1);
        stderr.Should().Be("privateserver: 'http://127.0.0.1:8080': the appliance serves HTTPS only; use https://\n");
    }

    [Fact]
    public async Task CaFingerprint_WhenFolderIsNotInitialised_SaysHowToInitialise()
    {
        var (exit, stdout, stderr) = await RunAsync("ca", "fingerprint", "--data", _data);

        exit.Should().Be(1);
        stdout.Should().BeEmpty();
        stderr.Should().Contain("is not initialised").And.Contain("privateserver init");
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        var exit = await new ApplianceCli(stdout, stderr, new Hashtable()).InvokeAsync(args);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    public void Dispose()
    {
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }
}
