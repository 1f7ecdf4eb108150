using PrivateServer.IntegrationTests.Infrastructure;
using PrivateServer.Packaging.Tests.Infrastructure;

namespace PrivateServer.Packaging.Tests;

/// <summary>The Windows installers, read back with msitools (no Windows here to run them): their tables say what Windows Installer will do.</summary>
public sealed class MsiPackageTests
{
    [Fact]
    public async Task ApplianceMsi_InstallsTheProgramAndStartsTheServiceWhichInitialisesProgramData()
    {
        using var deadline = TestDeadline.Start(120);
        var msi = Packages.Msi("privateserver");
        var file = Single(await TableAsync(msi, "File", deadline.Token));
        file[2].Should().Be("privateserver.exe");
        file[3].Should().Be(new FileInfo(Packages.Published("win-x64", "privateserver.exe")).Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var directories = await TableAsync(msi, "Directory", deadline.Token);
        directories.Should().Contain(d => d[0] == "INSTALLDIR" && d[1] == "ProgramFiles64Folder" && d[2] == "PrivateServer");
        Single(await TableAsync(msi, "Component", deadline.Token))[3].Should().Be("256", "a 64-bit component");

        var service = Single(await TableAsync(msi, "ServiceInstall", deadline.Token));
        service[1].Should().Be("PrivateServer");
        service[3].Should().Be("16", "its own process");
        service[4].Should().Be("2", "started automatically at boot");
        service[8].Should().Be("LocalSystem");
        service[10].Should().Be("run --init --data \"[CommonAppDataFolder]PrivateServer\\data\"", "data in ProgramData, initialised at first start");
        var control = Single(await TableAsync(msi, "ServiceControl", deadline.Token));
        control[1].Should().Be("PrivateServer");
        control[2].Should().Be("163", "start on install (1), stop on install and uninstall (2+32), remove on uninstall (128)");
        await ExpectMajorUpgradeAsync(msi, "{87757BE4-AF1B-4D78-B458-236F94BB53F9}", deadline.Token);
    }

    [Fact]
    public async Task HostMsi_EnrolsBeforeTheServiceStarts_AndRefusesToInstallWithoutAToken()
    {
        using var deadline = TestDeadline.Start(120);
        var msi = Packages.Msi("privateserver-host");
        Single(await TableAsync(msi, "File", deadline.Token))[2].Should().Be("privateserver-host.exe");
        var service = Single(await TableAsync(msi, "ServiceInstall", deadline.Token));
        service[1].Should().Be("PrivateServerHost");
        service[10].Should().Be("run --state \"[CommonAppDataFolder]PrivateServer Host\" [SERVICES]");
        Single(await TableAsync(msi, "ServiceControl", deadline.Token))[2].Should().Be("163");

        var enroll = Single(await TableAsync(msi, "CustomAction", deadline.Token));
        enroll[0].Should().Be("Enroll");
        enroll[2].Should().Be("privateserver_host.exe", "it runs the installed module");
        enroll[3].Should().Contain("enroll --state \"[CommonAppDataFolder]PrivateServer Host\" --server \"[SERVER]\" --token \"[TOKEN]\"");
        var sequence = await TableAsync(msi, "InstallExecuteSequence", deadline.Token);
        int Step(string action) => int.Parse(sequence.Single(s => s[0] == action)[2], System.Globalization.CultureInfo.InvariantCulture);
        Step("Enroll").Should().BeGreaterThan(Step("InstallFiles")).And.BeLessThan(Step("StartServices"));
        sequence.Single(s => s[0] == "Enroll")[1].Should().Be("NOT Installed AND NOT WIX_UPGRADE_DETECTED", "an upgrade keeps the enrolment");
        (await TableAsync(msi, "LaunchCondition", deadline.Token)).Should().Contain(
            c => c[0] == "Installed OR WIX_UPGRADE_DETECTED OR (SERVER AND TOKEN AND CAFINGERPRINT)" && c[1].Contains("SERVER=https://HOST TOKEN=T CAFINGERPRINT=HEX", StringComparison.Ordinal));
        (await TableAsync(msi, "Property", deadline.Token)).Should().Contain(p => p[0] == "MsiHiddenProperties" && p[1] == "TOKEN", "the token never reaches the installer log");
        await ExpectMajorUpgradeAsync(msi, "{8F5A432C-E7E5-4919-8C6D-447914407570}", deadline.Token);
    }

    /// <summary>
    /// No Windows here, but the command lines the MSIs give Windows are ours: the appliance service's
    /// (initialise an empty ProgramData folder once, then serve), the host's enrolment action and its
    /// service's, run with the Linux build of the same programs and the MSI properties filled in.
    /// </summary>
    [Fact]
    public async Task TheMsisCommandLines_InitialiseOnce_Enrol_AndConnectTheHost()
    {
        using var deadline = TestDeadline.Start(240);
        var cancellationToken = deadline.Token;
        using var programData = Tool.TemporaryFolder();
        var port = FreePort.Next();
        var appliance = Packages.Published("linux-x64", "privateserver");
        var hostModule = Packages.Published("linux-x64", "privateserver-host");
        var applianceMsi = Packages.Msi("privateserver");
        var hostMsi = Packages.Msi("privateserver-host");
        var properties = new Dictionary<string, string>
        {
            ["CommonAppDataFolder"] = programData.Path + "/",
            ["SERVICES"] = (await PropertiesAsync(hostMsi, cancellationToken))["SERVICES"],
        };

        var serviceArguments = Words(Single(await TableAsync(applianceMsi, "ServiceInstall", cancellationToken))[10], properties);
        var data = Path.Combine(programData.Path, "PrivateServer", "data");
        string password;
        await using (var first = ChildProcess.Start(appliance, [.. serviceArguments, "--urls", $"https://127.0.0.1:{port}"]))
        {
            await first.WaitForStderrAsync($"serves https://127.0.0.1:{port}", cancellationToken);
            first.Stderr.Should().Contain($"Initialised PrivateServer in {data}");
            first.Stdout.Should().BeEmpty("a service has no one to show the password to");
            var passwordFile = Path.Combine(data, "initial-admin-password");
            File.GetUnixFileMode(passwordFile).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
            password = File.ReadAllText(passwordFile).Trim();
            password.Length.Should().BeGreaterThanOrEqualTo(12);
            first.Stderr.Should().NotContain(password);
            first.Terminate();
            (await first.WaitForExitAsync(cancellationToken)).ExitCode.Should().Be(0);
        }

        var ca = File.ReadAllBytes(Path.Combine(data, "ca", "ca.crt"));
        await using var service = ChildProcess.Start(appliance, [.. serviceArguments, "--urls", $"https://127.0.0.1:{port}"]);
        await service.WaitForStderrAsync($"serves https://127.0.0.1:{port}", cancellationToken);
        service.Stderr.Should().NotContain("Initialised", "the second start finds its data");
        File.ReadAllBytes(Path.Combine(data, "ca", "ca.crt")).Should().Equal(ca);
        File.ReadAllText(Path.Combine(data, "initial-admin-password")).Trim().Should().Be(password);

        await Tool.CheckAsync(appliance, ["group", "add", "desks", "--data", data], cancellationToken);
        properties["SERVER"] = $"https://127.0.0.1:{port}";
        properties["TOKEN"] = (await Tool.CheckAsync(appliance, ["enroll-token", "create", "--group", "desks", "--data", data], cancellationToken)).Stdout.Trim();
        properties["CAFINGERPRINT"] = (await Tool.CheckAsync(appliance, ["ca", "fingerprint", "--data", data], cancellationToken)).Stdout.Trim();
        var enroll = Single(await TableAsync(hostMsi, "CustomAction", cancellationToken))[3];
        await Tool.CheckAsync(hostModule, [.. Words(enroll, properties), "--name", "msi-pc"], cancellationToken);
        var hostArguments = Words(Single(await TableAsync(hostMsi, "ServiceInstall", cancellationToken))[10], properties);
        await using var host = ChildProcess.Start(hostModule, hostArguments);
        while (!System.Text.RegularExpressions.Regex.IsMatch(
            (await Tool.CheckAsync(appliance, ["host", "list", "--data", data], cancellationToken)).Stdout,
            @"^msi-pc\t[^\t]+\tdesks\tonline\t",
            System.Text.RegularExpressions.RegexOptions.Multiline))
        {
            host.HasExited.Should().BeFalse(host.Stderr);
            await Task.Delay(200, cancellationToken);
        }

        host.Stderr.Should().Contain("screen", "the MSI's default SERVICES offers this computer's VNC server as 'screen'");
    }

    [Theory]
    [InlineData("privateserver", "privateserver.exe")]
    [InlineData("privateserver-host", "privateserver-host.exe")]
    public async Task Msi_HoldsThePublishedProgramByteForByte(string package, string program)
    {
        using var deadline = TestDeadline.Start(180);
        using var extracted = Tool.TemporaryFolder();
        await Tool.CheckAsync("msiextract", ["-C", extracted.Path, Packages.Msi(package)], deadline.Token);
        var files = Directory.GetFiles(extracted.Path, program, SearchOption.AllDirectories);
        files.Should().ContainSingle().Which.Should().Contain("PrivateServer");
        Packages.Sha256(files[0]).Should().Be(Packages.Sha256(Packages.Published("win-x64", program)));
    }

    [Fact]
    public async Task NextVersion_ReplacesThisOne_SameUpgradeCodeNewProductCode()
    {
        using var deadline = TestDeadline.Start(180);
        using var built = Tool.TemporaryFolder();
        await Tool.CheckAsync(Packages.MsiBuildScript, ["--version", "99.0.0", "--out", built.Path], deadline.Token);
        foreach (var package in new[] { "privateserver", "privateserver-host" })
        {
            var now = await PropertiesAsync(Packages.Msi(package), deadline.Token);
            var next = await PropertiesAsync(Path.Combine(built.Path, $"{package}-99.0.0-x64.msi"), deadline.Token);
            next["UpgradeCode"].Should().Be(now["UpgradeCode"]);
            next["ProductCode"].Should().NotBe(now["ProductCode"]);
            next["ProductVersion"].Should().Be("99.0.0");
            now["ProductVersion"].Should().Be(Packages.Version);
        }
    }

    /// <summary>The one Upgrade row that finds older versions sets WIX_UPGRADE_DETECTED; RemoveExistingProducts runs before anything is installed.</summary>
    private static async Task ExpectMajorUpgradeAsync(string msi, string upgradeCode, CancellationToken cancellationToken)
    {
        var upgrade = await TableAsync(msi, "Upgrade", cancellationToken);
        upgrade.Should().Contain(u => u[0] == upgradeCode && u[2] == Packages.Version && u[6] == "WIX_UPGRADE_DETECTED", "older versions are found and replaced");
        upgrade.Should().Contain(u => u[0] == upgradeCode && u[1] == Packages.Version && u[6] == "WIX_DOWNGRADE_DETECTED");
        (await PropertiesAsync(msi, cancellationToken))["UpgradeCode"].Should().Be(upgradeCode);
        var sequence = await TableAsync(msi, "InstallExecuteSequence", cancellationToken);
        int Step(string action) => int.Parse(sequence.Single(s => s[0] == action)[2], System.Globalization.CultureInfo.InvariantCulture);
        Step("RemoveExistingProducts").Should().BeGreaterThan(Step("InstallInitialize")).And.BeLessThan(Step("InstallFiles"));
    }

    private static async Task<Dictionary<string, string>> PropertiesAsync(string msi, CancellationToken cancellationToken) =>
        (await TableAsync(msi, "Property", cancellationToken)).ToDictionary(p => p[0], p => p[1]);

    /// <summary>The rows of an MSI table (msiinfo export: three header lines, then tab-separated rows).</summary>
    private static async Task<List<string[]>> TableAsync(string msi, string table, CancellationToken cancellationToken)
    {
        var export = await Tool.CheckAsync("msiinfo", ["export", msi, table], cancellationToken);
        return export.Stdout.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Skip(3)
            .Where(l => l.Length > 0).Select(l => l.Split('\t')).ToList();
    }

    /// <summary>A formatted MSI string as Windows Installer would expand it ([PROPERTY]), split into arguments like a command line.</summary>
    private static List<string> Words(string formatted, Dictionary<string, string> properties)
    {
        var expanded = System.Text.RegularExpressions.Regex.Replace(formatted, @"\[(\w+)\]", m => properties[m.Groups[1].Value]).Replace('\\', '/');
        return System.Text.RegularExpressions.Regex.Matches(expanded, "\"([^\"]*)\"|(\\S+)")
            .Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value).ToList();
    }

    private static string[] Single(List<string[]> rows) => rows.Should().ContainSingle().Subject;
}
