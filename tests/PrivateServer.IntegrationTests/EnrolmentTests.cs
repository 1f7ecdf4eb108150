using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>Hosts enrol with a one-time token, pin the CA, and show up online (DESIGN.md: Transport, Identities).</summary>
public sealed class EnrolmentTests
{
    [Fact]
    public async Task Enroll_ThenRun_HostIsListedOnlineForAdminAndSupporterWithItsKeyKeptPrivate()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token);

        var state = await rig.EnrollHostAsync("pc-accounting", deadline.Token);
        await rig.StartHostAsync(state, deadline.Token, "--service", "screen=127.0.0.1:5999", "--service", "rdp=127.0.0.1:3389");
        var admin = await rig.Appliance.CliAsync(deadline.Token, "host", "list");
        var supporter = await ChildProcess.RunAsync(Programs.Supporter, ["hosts", "--state", rig.SupporterState], deadline.Token);

        admin.ExitCode.Should().Be(0, admin.Stderr);
        var row = admin.Stdout.Trim().Split('\t');
        row[0].Should().Be("pc-accounting");
        row[1].Should().MatchRegex("^h-[0-9a-f]{16}$");
        row[2].Should().Be(SupportRig.Group);
        row[3].Should().Be("online");
        row[5].Should().Contain("Linux");
        supporter.ExitCode.Should().Be(0, supporter.Stderr);
        supporter.Stdout.Should().MatchRegex(@"^pc-accounting\th-[0-9a-f]{16}\tsupport\tonline\t[^\t]+\trdp,screen,sysinfo\n$");
        supporter.Stdout.Should().NotContain("5999", "a host announces service names, never its targets");
        File.GetUnixFileMode(Path.Combine(state, "host.key")).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.GetUnixFileMode(state).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var certificate = ModuleSocket.LoadHostCertificate(state);
        certificate.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.SimpleName, false).Should().Be(row[1], "the certificate names the host id");
        certificate.Issuer.Should().Be(rig.Appliance.Ca.Subject);
    }

    [Fact]
    public async Task Enroll_WithUsedExpiredOrUnknownToken_IsRefusedAndWritesNothing()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        var used = await rig.EnrollTokenAsync(deadline.Token);
        await SupportRig.MustAsync(EnrollAsync(rig, used, rig.Fingerprint, "first", deadline.Token));
        var expired = await rig.EnrollTokenAsync(deadline.Token, expires: "1s");
        await Task.Delay(1500, deadline.Token);

        var again = await EnrollAsync(rig, used, rig.Fingerprint, "second", deadline.Token);
        var late = await EnrollAsync(rig, expired, rig.Fingerprint, "third", deadline.Token);
        var unknown = await EnrollAsync(rig, "not-a-token", rig.Fingerprint, "fourth", deadline.Token);

        again.ExitCode.Should().NotBe(0);
        again.StderrLines.Should().ContainSingle().Which.Should().Be("privateserver-host: the enrolment token was already used; ask the admin for a new one");
        late.StderrLines.Should().ContainSingle().Which.Should().Contain("expired");
        unknown.StderrLines.Should().ContainSingle().Which.Should().Contain("not known");
        Directory.Exists(Path.Combine(rig.Root, "host-second")).Should().BeFalse();
        Directory.Exists(Path.Combine(rig.Root, "host-third")).Should().BeFalse();
        (await rig.Appliance.CliAsync(deadline.Token, "host", "list")).Stdout.Trim().Split('\n').Should().ContainSingle();
    }

    [Fact]
    public async Task Enroll_ThreeHostsWithATwoUseToken_EnrolsTwoAndRefusesTheThirdInOneLineWritingNothing()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        var created = await SupportRig.MustAsync(
            rig.Appliance.CliAsync(deadline.Token, "enroll-token", "create", "--group", SupportRig.Group, "--uses", "2"));
        var token = created.Stdout.Trim();

        var first = await EnrollAsync(rig, token, rig.Fingerprint, "rollout-1", deadline.Token);
        var second = await EnrollAsync(rig, token, rig.Fingerprint, "rollout-2", deadline.Token);
        var third = await EnrollAsync(rig, token, rig.Fingerprint, "rollout-3", deadline.Token);

        created.Stdout.Should().MatchRegex("^[A-Za-z0-9_-]{43}\n$", "the token is alone on stdout");
        created.Stderr.Should().Contain("up to 2 hosts in group 'support'");
        first.ExitCode.Should().Be(0, first.Stderr);
        second.ExitCode.Should().Be(0, second.Stderr);
        third.ExitCode.Should().NotBe(0);
        third.Stdout.Should().BeEmpty();
        third.StderrLines.Should().ContainSingle()
            .Which.Should().Be("privateserver-host: the enrolment token was already used by all 2 hosts it allows; ask the admin for a new one");
        Directory.Exists(Path.Combine(rig.Root, "host-rollout-3")).Should().BeFalse();
        var hosts = (await rig.Appliance.CliAsync(deadline.Token, "host", "list")).Stdout.Trim().Split('\n');
        hosts.Select(h => h.Split('\t')[0]).Should().BeEquivalentTo("rollout-1", "rollout-2");
    }

    [Fact]
    public async Task Enroll_WithAnotherCaFingerprint_RefusesTheServerBeforeSendingTheToken()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        var token = await rig.EnrollTokenAsync(deadline.Token);
        var wrong = new string(rig.Fingerprint.Reverse().ToArray());

        var refused = await EnrollAsync(rig, token, wrong, "pinned", deadline.Token);
        var accepted = await EnrollAsync(rig, token, rig.Fingerprint, "pinned", deadline.Token);

        refused.ExitCode.Should().NotBe(0);
        refused.StderrLines.Should().ContainSingle().Which.Should().Contain("does not have the pinned fingerprint");
        accepted.ExitCode.Should().Be(0, "the refused attempt must not have spent the token");
        accepted.Stdout.Should().MatchRegex("^h-[0-9a-f]{16}\n$");
    }

    private static Task<ProcessResult> EnrollAsync(SupportRig rig, string token, string fingerprint, string name, CancellationToken cancellationToken) =>
        ChildProcess.RunAsync(
            Programs.Host,
            ["enroll", "--server", rig.ServerUrl, "--token", token, "--ca-fingerprint", fingerprint, "--name", name, "--state", Path.Combine(rig.Root, "host-" + name)],
            cancellationToken);
}
