using System.Globalization;
using System.Text.RegularExpressions;
using PrivateServer.IntegrationTests.Infrastructure;
using PrivateServer.Packaging.Tests.Infrastructure;
using Xunit.Abstractions;

namespace PrivateServer.Packaging.Tests;

/// <summary>The .deb packages as IT meets them: what they contain, what lintian and systemd say, and dpkg installing, upgrading, removing and purging them in a throw-away Debian root.</summary>
public sealed class DebianPackageTests(ITestOutputHelper output)
{
    private const string Config = "/etc/privateserver/privateserver.json";
    private const string Data = "/var/lib/privateserver";
    private const string Logs = "/var/log/privateserver";
    private const string PasswordFile = "/var/lib/privateserver/initial-admin-password";
    private const string ApplianceUnit = "/lib/systemd/system/privateserver.service";
    private const string HostUnit = "/lib/systemd/system/privateserver-host.service";
    private const string HostState = "/var/lib/privateserver-host";

    [Theory]
    [InlineData("privateserver", "privateserver", Config)]
    [InlineData("privateserver-host", "privateserver-host", null)]
    public async Task Deb_ShipsThePublishedProgram_ItsUnit_ManPageAndDependencies(string package, string program, string? conffile)
    {
        using var deadline = TestDeadline.Start(180);
        var deb = Packages.Deb(package);
        var fields = (await Tool.CheckAsync("dpkg-deb", ["-f", deb, "Package", "Version", "Architecture", "Depends"], deadline.Token)).Stdout;
        fields.Should().Contain($"Package: {package}\n").And.Contain($"Version: {Packages.Version}\n").And.Contain("Architecture: amd64\n");
        var depends = fields.Split('\n').Single(l => l.StartsWith("Depends: ", StringComparison.Ordinal));
        depends.Should().Contain("libicu72", "the programs speak German and English, so not in invariant-globalisation mode")
            .And.Contain("libssl3", "TLS and X.509 go through the platform's OpenSSL")
            .And.Contain("adduser", "postinst creates the system user");

        var contents = (await Tool.CheckAsync("dpkg-deb", ["-c", deb], deadline.Token)).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Entry(contents, $"./usr/lib/{package}/{program}").Should().StartWith("-rwxr-xr-x root/root");
        Entry(contents, $"./usr/bin/{program}").Should().StartWith("lrwxrwxrwx root/root").And.EndWith($" -> ../lib/{package}/{program}");
        Entry(contents, $"./lib/systemd/system/{package}.service").Should().StartWith("-rw-r--r-- root/root");
        Entry(contents, $"./usr/share/man/man1/{program}.1.gz").Should().StartWith("-rw-r--r--");
        Entry(contents, $"./usr/share/doc/{package}/copyright").Should().StartWith("-rw-r--r--");
        contents.Should().NotContain(l => l.Contains(" ./var/", StringComparison.Ordinal), "data folders are made by postinst, so removing the package cannot take them");

        var conffiles = await ChildProcess.RunAsync("dpkg-deb", ["-I", deb, "conffiles"], deadline.Token);
        if (conffile is null)
        {
            conffiles.ExitCode.Should().NotBe(0, "the host module has no conffile");
        }
        else
        {
            conffiles.Stdout.Trim().Should().Be(conffile, "dpkg keeps the admin's edits of the config over upgrades");
            Entry(contents, "." + conffile).Should().StartWith("-rw-r--r-- root/root", "postinst sets root:privateserver 0640 with dpkg-statoverride");
        }

        using var unpacked = Tool.TemporaryFolder();
        await Tool.CheckAsync("dpkg-deb", ["-x", deb, unpacked.Path], deadline.Token);
        File.ReadAllLines(unpacked.File($"usr/share/lintian/overrides/{package}")).Where(l => !l.StartsWith('#')).Should().Equal(
            [$"{package}: embedded-library zlib [usr/lib/{package}/{program}]"], "the one lintian override, explained in the file and in packaging/debian/README.md");
        Packages.Sha256(unpacked.File($"usr/lib/{package}/{program}")).Should().Be(
            Packages.Sha256(Packages.Published("linux-x64", program)), "the package ships the self-contained program of 'make publish' unchanged");
    }

    [Fact]
    public async Task Lintian_FindsNoErrorsAndNoWarnings()
    {
        using var deadline = TestDeadline.Start(300);
        var result = await ChildProcess.RunAsync(
            "lintian", ["--fail-on", "error,warning", "--tag-display-limit", "0", Packages.Deb("privateserver"), Packages.Deb("privateserver-host")], deadline.Token);
        output.WriteLine(result.Stdout);
        var tags = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        tags.Should().NotContain(t => t.StartsWith("E: ", StringComparison.Ordinal));
        tags.Should().NotContain(t => t.StartsWith("W: ", StringComparison.Ordinal));
        result.ExitCode.Should().Be(0, result.Stdout + result.Stderr);
    }

    [Fact]
    public async Task Units_PassSystemdAnalyzeVerify_AndExposeAtMost3()
    {
        using var deadline = TestDeadline.Start(300);
        using var root = await DebianRoot.CreateAsync(deadline.Token);
        await root.CheckAsync(["dpkg", "-i", root.CopyIn(Packages.Deb("privateserver")), root.CopyIn(Packages.Deb("privateserver-host"))], deadline.Token);
        foreach (var unit in new[] { ApplianceUnit, HostUnit })
        {
            var verify = await ChildProcess.RunAsync("systemd-analyze", ["verify", "--man=no", "--root=" + root.Path, unit], deadline.Token);
            verify.ExitCode.Should().Be(0, verify.Stderr);
            (verify.Stdout + verify.Stderr).Trim().Should().BeEmpty($"systemd has nothing to say about {unit}");

            var security = await Tool.CheckAsync("systemd-analyze", ["security", "--offline=yes", "--root=" + root.Path, Path.GetFileName(unit)], deadline.Token);
            var exposure = Regex.Match(security.Stdout, @"Overall exposure level for \S+: (\d+\.\d+)");
            exposure.Success.Should().BeTrue(security.Stdout);
            var level = double.Parse(exposure.Groups[1].Value, CultureInfo.InvariantCulture);
            output.WriteLine($"{Path.GetFileName(unit)}: systemd-analyze security exposure {level.ToString(CultureInfo.InvariantCulture)}");
            level.Should().BeLessThanOrEqualTo(3.0);
        }

        var appliance = SystemdUnit.Read(root.Outside(ApplianceUnit));
        appliance.Value("Type").Should().Be("notify");
        appliance.Value("User").Should().Be("privateserver");
        appliance.Value("AmbientCapabilities").Should().Be("CAP_NET_BIND_SERVICE", "port 443 without root");
        appliance.Value("ProtectSystem").Should().Be("strict");
        appliance.Value("ReadWritePaths").Should().Be($"{Data} {Logs}");
        appliance.Value("RestrictAddressFamilies").Should().Be("AF_INET AF_INET6 AF_UNIX");
        appliance.Value("NoNewPrivileges").Should().Be("yes");
        var host = SystemdUnit.Read(root.Outside(HostUnit));
        host.Value("User").Should().Be("privateserver-host");
        host.Value("ConditionPathExists").Should().Be($"{HostState}/host.json", "the host service starts once the computer is enrolled");
    }

    [Fact]
    public async Task Appliance_FirstInstallInitialisesAndServes_UpgradeKeepsEverything_RemoveKeepsData_PurgeRemovesIt()
    {
        using var deadline = TestDeadline.Start(600);
        var cancellationToken = deadline.Token;
        using var root = await DebianRoot.CreateAsync(cancellationToken);

        var install = await root.CheckAsync(["dpkg", "-i", root.CopyIn(Packages.Deb("privateserver"))], cancellationToken);
        install.Stderr.Should().Contain($"Initialised PrivateServer in {Data}").And.Contain(PasswordFile);
        install.Stderr.Should().NotContain("follows on standard output", "the password went into the file, not to the screen");
        var password = File.ReadAllText(root.Outside(PasswordFile)).Trim();
        password.Length.Should().BeGreaterThanOrEqualTo(12);
        (install.Stdout + install.Stderr).Should().NotContain(password, "the password is never echoed");
        var modes = await root.CheckAsync(["stat", "-c", "%n %U:%G %a", PasswordFile, Data, Logs, Config], cancellationToken);
        modes.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal(
            $"{PasswordFile} root:root 600",
            $"{Data} privateserver:privateserver 750",
            $"{Logs} privateserver:privateserver 750",
            $"{Config} root:privateserver 640");
        (await root.CheckAsync(["getent", "passwd", "privateserver"], cancellationToken)).Stdout.Should().Contain($":{Data}:/usr/sbin/nologin");
        new FileInfo(root.Outside("/etc/systemd/system/multi-user.target.wants/privateserver.service")).LinkTarget
            .Should().Be(ApplianceUnit, "postinst enables the unit (systemd does not run in the root, so nothing is started)");

        // The admin points the conffile at a free port; the unit's own command line serves, as the unit's user.
        var port = FreePort.Next();
        var config = root.Outside(Config);
        File.WriteAllText(config, File.ReadAllText(config).Replace("https://0.0.0.0:443", $"https://127.0.0.1:{port}", StringComparison.Ordinal));
        var fingerprint = await ServeAndLogInAsync(root, port, password, cancellationToken);
        Directory.EnumerateFiles(root.Outside(Logs), "privateserver-*.log").Should().NotBeEmpty("the service logs to /var/log/privateserver");
        Directory.Exists(root.Outside(Data + "/logs")).Should().BeFalse();

        // Upgrade to the next version: no second init, same CA and database, the config edit kept, the admin still gets in.
        const string next = "99.0.0";
        using var built = Tool.TemporaryFolder();
        await Tool.CheckAsync(Packages.DebBuildScript, ["--version", next, "--out", built.Path, "--uncompressed"], cancellationToken);
        var ca = root.Outside(Data + "/ca/ca.crt");
        var caBefore = File.ReadAllBytes(ca);
        var upgrade = await root.CheckAsync(["dpkg", "-i", root.CopyIn(built.File($"privateserver_{next}_amd64.deb"))], cancellationToken);
        upgrade.Stderr.Should().NotContain("Initialised");
        (await root.CheckAsync(["dpkg-query", "-W", "-f", "${Version}", "privateserver"], cancellationToken)).Stdout.Trim().Should().Be(next);
        File.ReadAllBytes(ca).Should().Equal(caBefore);
        File.ReadAllText(config).Should().Contain($"https://127.0.0.1:{port}", "dpkg keeps the admin's conffile");
        (await ServeAndLogInAsync(root, port, password, cancellationToken)).Should().Be(fingerprint);

        // apt remove: the program goes, data, logs and config stay.
        await root.CheckAsync(["dpkg", "--remove", "privateserver"], cancellationToken);
        File.Exists(root.Outside("/usr/lib/privateserver/privateserver")).Should().BeFalse();
        new FileInfo(root.Outside("/usr/bin/privateserver")).LinkTarget.Should().BeNull();
        File.Exists(root.Outside(Data + "/privateserver.db")).Should().BeTrue();
        File.ReadAllBytes(ca).Should().Equal(caBefore);
        File.Exists(config).Should().BeTrue();
        Directory.Exists(root.Outside(Logs)).Should().BeTrue();

        // apt purge: everything goes.
        await root.CheckAsync(["dpkg", "--purge", "privateserver"], cancellationToken);
        Directory.Exists(root.Outside(Data)).Should().BeFalse();
        Directory.Exists(root.Outside(Logs)).Should().BeFalse();
        Directory.Exists(root.Outside("/etc/privateserver")).Should().BeFalse();
        new FileInfo(root.Outside("/etc/systemd/system/multi-user.target.wants/privateserver.service")).LinkTarget.Should().BeNull();
        (await root.RunAsync(["dpkg-statoverride", "--list"], cancellationToken)).Stdout.Should().NotContain("privateserver", "purge drops the config's owner override");
    }

    [Fact]
    public async Task HostModule_RunsAsItsServiceOnceEnrolled_PurgeRemovesTheEnrolment()
    {
        using var deadline = TestDeadline.Start(600);
        var cancellationToken = deadline.Token;
        using var root = await DebianRoot.CreateAsync(cancellationToken);
        await root.CheckAsync(["dpkg", "-i", root.CopyIn(Packages.Deb("privateserver"))], cancellationToken);
        var port = FreePort.Next();
        var config = root.Outside(Config);
        File.WriteAllText(config, File.ReadAllText(config).Replace("https://0.0.0.0:443", $"https://127.0.0.1:{port}", StringComparison.Ordinal));
        var applianceUnit = SystemdUnit.Read(root.Outside(ApplianceUnit));
        await using var appliance = root.Start(applianceUnit.ExecStart, applianceUnit.Value("User"));
        await appliance.WaitForStderrAsync($"serves https://127.0.0.1:{port}", cancellationToken);

        var install = await root.CheckAsync(["dpkg", "-i", root.CopyIn(Packages.Deb("privateserver-host"))], cancellationToken);
        install.Stderr.Should().Contain("privateserver-host enroll --state " + HostState, "postinst says how to enrol");
        (await root.CheckAsync(["stat", "-c", "%U:%G %a", HostState], cancellationToken)).Stdout.Trim().Should().Be("privateserver-host:privateserver-host 700");

        // Enrolment as the admin does it: a token from the appliance, enrol as the service's user.
        await root.CheckAsync(["privateserver", "group", "add", "servers", "--unattended-consent", "auto"], cancellationToken, "privateserver");
        var token = (await root.CheckAsync(["privateserver", "enroll-token", "create", "--group", "servers"], cancellationToken, "privateserver")).Stdout.Trim();
        var fingerprint = (await root.CheckAsync(["privateserver", "ca", "fingerprint"], cancellationToken, "privateserver")).Stdout.Trim();
        var hostUnit = SystemdUnit.Read(root.Outside(HostUnit));
        await root.CheckAsync(
            ["privateserver-host", "enroll", "--state", HostState, "--server", $"https://127.0.0.1:{port}", "--token", token, "--ca-fingerprint", fingerprint, "--name", "packaged-pc"],
            cancellationToken,
            hostUnit.Value("User"));
        File.Exists(root.Outside(hostUnit.Value("ConditionPathExists"))).Should().BeTrue("enrolment satisfies the unit's condition");

        await using (var host = root.Start(hostUnit.ExecStart, hostUnit.Value("User")))
        {
            string list;
            do
            {
                await Task.Delay(200, cancellationToken);
                list = (await root.CheckAsync(["privateserver", "host", "list"], cancellationToken, "privateserver")).Stdout;
                host.HasExited.Should().BeFalse(host.Stderr);
            }
            while (!Regex.IsMatch(list, @"^packaged-pc\t[^\t]+\tservers\tonline\t", RegexOptions.Multiline));

            host.Terminate();
            (await host.WaitForExitAsync(cancellationToken)).ExitCode.Should().Be(0, "the host module ends cleanly on SIGTERM");
        }

        await root.CheckAsync(["dpkg", "--remove", "privateserver-host"], cancellationToken);
        File.Exists(root.Outside(HostState + "/host.json")).Should().BeTrue("remove keeps the enrolment");
        await root.CheckAsync(["dpkg", "--purge", "privateserver-host"], cancellationToken);
        Directory.Exists(root.Outside(HostState)).Should().BeFalse("purge removes the enrolment");
        appliance.Terminate();
        (await appliance.WaitForExitAsync(cancellationToken)).ExitCode.Should().Be(0);
    }

    /// <summary>Runs the installed unit's command as its user until it serves, checks the first admin's password (and that a second factor is required of them), stops it with SIGTERM; returns the CA fingerprint.</summary>
    private static async Task<string> ServeAndLogInAsync(DebianRoot root, int port, string password, CancellationToken cancellationToken)
    {
        var unit = SystemdUnit.Read(root.Outside(ApplianceUnit));
        await using var service = root.Start(unit.ExecStart, unit.Value("User"));
        await service.WaitForStderrAsync($"serves https://127.0.0.1:{port}", cancellationToken);
        var fingerprint = (await root.CheckAsync(["privateserver", "ca", "fingerprint"], cancellationToken, "privateserver")).Stdout.Trim();
        using (var ca = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(root.Outside(Data + "/ca/ca.crt")))
        using (var http = CaTrust.CreateClient(ca, new Uri($"https://127.0.0.1:{port}/")))
        {
            (await http.GetStringAsync(new Uri("healthz", UriKind.Relative), cancellationToken)).Should().Contain("\"ok\"", "the installed appliance answers /healthz");
        }

        using var supporter = Tool.TemporaryFolder();
        await File.WriteAllTextAsync(supporter.File("password"), password + "\n", cancellationToken);
        // The password is right (a wrong one reads "wrong user name or password"), and the installed appliance requires a
        // second factor of admins by default: the module is sent to the web console to set one up first.
        var login = await ChildProcess.RunAsync(
            Packages.Supporter,
            ["login", "--server", $"https://127.0.0.1:{port}", "--user", "admin", "--password-file", supporter.File("password"), "--ca-fingerprint", fingerprint, "--state", supporter.File("state")],
            cancellationToken);
        login.ExitCode.Should().NotBe(0);
        login.Stderr.Should().Contain("must sign in with a second factor and has none yet");
        service.Terminate();
        (await service.WaitForExitAsync(cancellationToken)).ExitCode.Should().Be(0, "the service ends cleanly on SIGTERM");
        return fingerprint;
    }

    /// <summary>The <c>dpkg-deb -c</c> line of <paramref name="path"/> (permissions owner size date time path [-> target]).</summary>
    private static string Entry(IEnumerable<string> contents, string path) =>
        contents.Should().ContainSingle(l => Regex.IsMatch(l, @"^\S+ \S+ +\d+ \S+ \S+ " + Regex.Escape(path) + @"( -> .*)?$"), $"the package contains {path}").Subject;
}
