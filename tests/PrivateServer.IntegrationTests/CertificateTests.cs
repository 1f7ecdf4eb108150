using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>The company's own server certificate, imported into the running appliance: checked first, served at once, never breaking a host.</summary>
public sealed class CertificateTests
{
    private static readonly string[] Names = ["rs.example.internal", "localhost"];

    [Fact]
    public async Task Import_WhileAHostIsConnected_IsServedFromTheNextConnection_BadOnesChangeNothing_AndRollbackGoesBack()
    {
        using var deadline = TestDeadline.Start(180);
        using var company = await CompanyCa.CreateAsync(deadline.Token);
        var first = await company.IssueAsync("first", Names, 90, deadline.Token);
        var second = await company.IssueAsync("second", Names, 120, deadline.Token);
        var pfx = await company.ExportPfxAsync("second", "Pfx-Secret-1", deadline.Token);
        var expiring = await company.IssueAsync("expiring", Names, 3, deadline.Token);
        var otherName = await company.IssueAsync("other", ["other.example.internal"], 90, deadline.Token);
        var expired = company.IssueWithDotNet("expired", Names, expired: true, belowIntermediate: false);
        var incomplete = company.IssueWithDotNet("incomplete", Names, expired: false, belowIntermediate: true);
        var pfxPassword = Path.Combine(company.Folder, "pfx.pw");
        await File.WriteAllTextAsync(pfxPassword, "Pfx-Secret-1\n", deadline.Token);
        var wrongPassword = Path.Combine(company.Folder, "wrong.pw");
        await File.WriteAllTextAsync(wrongPassword, "not-the-password\n", deadline.Token);
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await using var echo = EchoServer.Start();
        var host = await rig.StartHostAsync(await rig.EnrollHostAsync("pc1", deadline.Token), deadline.Token, "--service", $"echo=127.0.0.1:{echo.Port}");
        var port = rig.Appliance.Port;
        var applianceIssued = await CompanyCa.PresentedFingerprintAsync(port, "rs.example.internal", deadline.Token);

        var imported = await rig.Appliance.CliAsync(deadline.Token, "cert", "import", "--cert", first.Certificate, "--key", first.Key, "--ca-file", company.RootPem);
        var servedFirst = await CompanyCa.PresentedFingerprintAsync(port, "rs.example.internal", deadline.Token);
        var refusals = new[]
        {
            await rig.Appliance.CliAsync(deadline.Token, "cert", "import", "--cert", first.Certificate, "--key", second.Key, "--ca-file", company.RootPem),
            await rig.Appliance.CliAsync(deadline.Token, "cert", "import", "--cert", expiring.Certificate, "--key", expiring.Key, "--ca-file", company.RootPem),
            await rig.Appliance.CliAsync(deadline.Token, "cert", "import", "--cert", expired.Certificate, "--key", expired.Key, "--ca-file", company.RootPem),
            await rig.Appliance.CliAsync(deadline.Token, "cert", "import", "--cert", incomplete.Certificate, "--key", incomplete.Key, "--ca-file", company.RootPem),
            await rig.Appliance.CliAsync(deadline.Token, "cert", "import", "--cert", otherName.Certificate, "--key", otherName.Key, "--ca-file", company.RootPem),
            await rig.Appliance.CliAsync(deadline.Token, "cert", "import", "--cert", second.Certificate, "--key", second.Key),
            await rig.Appliance.CliAsync(deadline.Token, "cert", "import", "--pfx", pfx, "--password-file", wrongPassword),
        };
        var afterRefusals = await CompanyCa.PresentedFingerprintAsync(port, "rs.example.internal", deadline.Token);
        var fromPfx = await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "cert", "import", "--pfx", pfx, "--password-file", pfxPassword));
        var servedSecond = await CompanyCa.PresentedFingerprintAsync(port, "localhost", deadline.Token);
        var shown = await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "cert", "show"));
        var rolledBack = await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "cert", "rollback"));
        var servedAfterRollback = await CompanyCa.PresentedFingerprintAsync(port, "rs.example.internal", deadline.Token);
        var hosts = await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "host", "list"));
        var connect = rig.StartConnect("pc1", "--forward", "echo=0");
        var forwarded = await SupportRig.ForwardPortAsync(connect, "echo", deadline.Token);

        imported.ExitCode.Should().Be(0, imported.Stderr);
        imported.Stdout.Trim().Should().Be(await company.FingerprintAsync(first.Certificate, deadline.Token));
        servedFirst.Should().Be(imported.Stdout.Trim()).And.NotBe(applianceIssued, "the new certificate is served without a restart");
        refusals.Select(r => r.ExitCode).Should().AllBeEquivalentTo(1);
        refusals.Select(r => r.StderrLines.Single()).Should().Equal(
            "privateserver: the private key does not belong to the certificate (or is not a PEM private key)",
            $"privateserver: the certificate expires on {ExpiryOf(refusals[1])}, in less than 7 days",
            $"privateserver: the certificate expired on {ExpiredOn(refusals[2])}",
            "privateserver: the chain is incomplete: the certificate of 'CN=Example Company Issuing CA, O=Example Company', which issued 'CN=rs.example.internal, O=Example Company', was not given",
            "privateserver: the certificate does not name the appliance's host name rs.example.internal (it names: other.example.internal)",
            "privateserver: no root certificate was given: put the chain up to the root into the file, or give the root with --ca-file",
            "privateserver: the PFX file cannot be opened: its password is wrong, or it is not a PFX (PKCS#12) file");
        afterRefusals.Should().Be(servedFirst, "a refused certificate changes nothing");
        servedSecond.Should().Be(fromPfx.Stdout.Trim()).And.Be(await company.FingerprintAsync(second.Certificate, deadline.Token));
        shown.Stdout.Should().Contain("subject\tCN=rs.example.internal, O=Example Company").And.Contain("names\trs.example.internal, localhost")
            .And.Contain("issuers\tCN=Example Company Root, O=Example Company").And.Contain("source\timported").And.Contain($"previous\t{servedFirst}");
        rolledBack.Stdout.Trim().Should().Be(servedFirst);
        servedAfterRollback.Should().Be(servedFirst);
        hosts.Stdout.Should().Contain("pc1\t").And.Contain("\tonline\t", "the host never noticed: modules get the appliance CA's module certificate");
        forwarded.Should().BePositive("a new session to the host works after the switch");
        host.Stderr.Should().NotContain("certificate");
    }

    private static string ExpiredOn(ProcessResult refusal) =>
        System.Text.RegularExpressions.Regex.Match(refusal.Stderr, @"expired on (\d{4}-\d\d-\d\d \d\d:\d\d UTC)").Groups[1].Value;

    private static string ExpiryOf(ProcessResult refusal) =>
        System.Text.RegularExpressions.Regex.Match(refusal.Stderr, @"expires on (\d{4}-\d\d-\d\d \d\d:\d\d UTC)").Groups[1].Value;

    [Fact]
    public async Task Acme_FromARealAcmeCaWithHttp01AnsweredByTheAppliance_IsServedAtOnce_AndAnUnreachableDirectoryChangesNothing()
    {
        using var deadline = TestDeadline.Start(180);
        await using var pebble = await PebbleAcme.StartAsync(deadline.Token);
        await using var appliance = await ApplianceProcess.StartAsync(
            deadline.Token, new Dictionary<string, string> { ["PRIVATESERVER__Acme__Http01Address"] = $"127.0.0.1:{pebble.Http01Port}" });
        var before = await CompanyCa.PresentedFingerprintAsync(appliance.Port, "rs.example.internal", deadline.Token);

        var unreachable = await appliance.CliAsync(
            deadline.Token, "cert", "acme", "--directory", $"https://127.0.0.1:{FreePort.Next()}/dir", "--directory-ca", pebble.DirectoryCa, "--email", "it@example.internal");
        var stillBefore = await CompanyCa.PresentedFingerprintAsync(appliance.Port, "rs.example.internal", deadline.Token);
        var issued = await appliance.CliAsync(deadline.Token, "cert", "acme", "--directory", pebble.Directory, "--directory-ca", pebble.DirectoryCa, "--email", "it@example.internal");
        var served = await CompanyCa.PresentedFingerprintAsync(appliance.Port, "rs.example.internal", deadline.Token);
        var shown = await SupportRig.MustAsync(appliance.CliAsync(deadline.Token, "cert", "show"));

        unreachable.ExitCode.Should().Be(1);
        unreachable.StderrLines.Should().ContainSingle().Which.Should().StartWith("privateserver: ACME: reading the ACME directory failed: cannot reach https://127.0.0.1:");
        stillBefore.Should().Be(before);
        issued.ExitCode.Should().Be(0, issued.Stderr + pebble.Log);
        served.Should().Be(issued.Stdout.Trim()).And.NotBe(before);
        shown.Stdout.Should().Contain("source\tacme").And.Contain("names\trs.example.internal").And.Contain("Pebble");
        appliance.Server.Stderr.Should().MatchRegex(
            @"ACME http-01 request from 127\.0\.0\.1:\d+ for /\.well-known/acme-challenge/[A-Za-z0-9_-]+: True", "pebble validated the name over http-01 against the appliance");
    }

    [Fact]
    public async Task AdminPage_UploadsAPfx_ServesIt_RefusesAWrongPasswordInOneLine_AndRollsBack()
    {
        using var deadline = TestDeadline.Start();
        using var company = await CompanyCa.CreateAsync(deadline.Token);
        await company.IssueAsync("web", Names, 90, deadline.Token);
        var pfx = await company.ExportPfxAsync("web", "Pfx-Secret-2", deadline.Token);
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        var before = await CompanyCa.PresentedFingerprintAsync(appliance.Port, "localhost", deadline.Token);
        await using var browser = await WebBrowser.StartAsync();
        await using var admin = await browser.NewSessionAsync(appliance);
        await admin.SignInAsync("admin", appliance.AdminPassword);

        await admin.Page.GotoAsync("/admin/certificate");
        var sourceBefore = await admin.Page.TextContentAsync("#certificate-source");
        await admin.Page.SetInputFilesAsync("#import-pfx", pfx);
        await admin.Page.FillAsync("#import-password", "not-the-password");
        var refused = await admin.SubmitRefusedAsync("#certificate-import button[type=submit]");
        await admin.Page.SetInputFilesAsync("#import-pfx", pfx);
        await admin.Page.FillAsync("#import-password", "Pfx-Secret-2");
        var imported = await admin.SubmitAsync("#certificate-import button[type=submit]");
        var shown = await admin.Page.TextContentAsync("#certificate-fingerprint");
        var served = await CompanyCa.PresentedFingerprintAsync(appliance.Port, "localhost", deadline.Token);
        var rolledBack = await admin.SubmitAsync("#certificate-rollback button[type=submit]");
        var servedAfterRollback = await CompanyCa.PresentedFingerprintAsync(appliance.Port, "localhost", deadline.Token);

        sourceBefore.Should().Be("issued by the appliance CA");
        refused.Should().Be("the PFX file cannot be opened: its password is wrong, or it is not a PFX (PKCS#12) file");
        imported.Should().Be("The certificate CN=rs.example.internal, O=Example Company is served from now on.");
        served.Should().Be(shown).And.Be(await company.FingerprintAsync(Path.Combine(company.Folder, "web.pem"), deadline.Token));
        rolledBack.Should().StartWith("The previous certificate").And.Contain("is served again.");
        servedAfterRollback.Should().Be(before);
        admin.ForeignRequests.Should().BeEmpty();
    }
}
