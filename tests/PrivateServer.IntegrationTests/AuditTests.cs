using System.IO.Compression;
using System.Net;
using System.Text.Json;
using LiteDB;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>The audit trail of the real appliance: written by what happens, checked by <c>privateserver audit verify</c>.</summary>
public sealed class AuditTests
{
    [Fact]
    public async Task AuditVerify_AfterRealLogins_Holds_AndAfterSomeoneEditedAnEventInTheDatabase_NamesThatEvent()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        using (var client = appliance.CreateClient())
        {
            (await WebLogin.PostAsync(client, "admin", "not-the-password", deadline.Token)).Dispose();
            using var ok = await WebLogin.PostAsync(client, "admin", appliance.AdminPassword, deadline.Token);
            ok.StatusCode.Should().Be(HttpStatusCode.Redirect);
        }

        var running = await appliance.CliAsync(deadline.Token, "audit", "verify");
        await appliance.StopAsync(deadline.Token);
        TamperWithEvent(appliance.DataDirectory, sequence: 3);
        var tampered = await appliance.CliAsync(deadline.Token, "audit", "verify");

        running.ExitCode.Should().Be(0, running.Stderr);
        running.Stdout.Should().MatchRegex("^[0-9a-f]{64}\n$");
        running.Stderr.Should().Contain("The audit trail holds: 4 events", "init, the first admin and the two logins");
        tampered.ExitCode.Should().Be(1);
        tampered.StderrLines.Should().ContainSingle().Which.Should().Be(
            "privateserver: the audit trail is broken at event 3: event 3 was modified: its content does not match its hash (2 events before it hold)");
    }

    [Fact]
    public async Task AuditExport_WithABadTimeOrFormat_SaysSoInOneLineAndWritesNothing()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        var file = appliance.DataDirectory + "-bad.json";

        var badTime = await appliance.CliAsync(deadline.Token, "audit", "export", "--format", "json", "--from", "last tuesday", "--out", file);
        var badFormat = await appliance.CliAsync(deadline.Token, "audit", "export", "--format", "xml", "--out", file);
        var badRange = await appliance.CliAsync(deadline.Token, "audit", "export", "--format", "csv", "--from", "2026-11-23", "--to", "2026-11-22", "--out", file);

        badTime.ExitCode.Should().Be(1);
        badTime.StderrLines.Should().ContainSingle().Which.Should().Be("privateserver: --from: 'last tuesday' is not a time; use e.g. 2026-11-23 or 2026-11-23T14:30Z");
        badFormat.ExitCode.Should().Be(1);
        badFormat.StderrLines.Should().ContainSingle().Which.Should().Be("privateserver: unknown export format 'xml'; use csv or json");
        badRange.ExitCode.Should().Be(1);
        badRange.StderrLines.Should().ContainSingle().Which.Should().Be("privateserver: the end of the time range must be after its start");
        File.Exists(file).Should().BeFalse();
        File.Exists(file + ".sig").Should().BeFalse();
    }

    [Fact]
    public async Task AuditExport_IsSignedSoOpensslVerifiesIt_AModifiedCopyFails_AndCuttingOffTheTrailsEndIsDetected()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        using (var client = appliance.CreateClient())
        {
            (await WebLogin.PostAsync(client, "admin", "not-the-password", deadline.Token)).Dispose();
            (await WebLogin.PostAsync(client, "admin", appliance.AdminPassword, deadline.Token)).Dispose();
        }

        var folder = appliance.DataDirectory + "-export";
        Directory.CreateDirectory(folder);
        var (json, csv, ca) = (Path.Combine(folder, "audit.json"), Path.Combine(folder, "audit.csv"), Path.Combine(folder, "ca.crt"));
        var exportJson = await appliance.CliAsync(deadline.Token, "audit", "export", "--format", "json", "--out", json);
        var exportCsv = await appliance.CliAsync(deadline.Token, "audit", "export", "--format", "csv", "--from", "2000-01-01", "--out", csv);
        await SupportRig.MustAsync(appliance.CliAsync(deadline.Token, "ca", "export", "--out", ca));
        var verified = await OpensslVerifyAsync(json, ca, deadline.Token);
        var verifiedCsv = await OpensslVerifyAsync(csv, ca, deadline.Token);
        var modified = json + ".modified";
        await File.WriteAllTextAsync(modified, (await File.ReadAllTextAsync(json, deadline.Token)).Replace("login.failed", "login.ok", StringComparison.Ordinal), deadline.Token);
        File.Copy(json + ".sig", modified + ".sig");
        var rejected = await OpensslVerifyAsync(modified, ca, deadline.Token);
        using var document = JsonDocument.Parse(await File.ReadAllBytesAsync(json, deadline.Token));
        var events = document.RootElement.GetProperty("events").EnumerateArray().ToList();
        var csvLines = await File.ReadAllLinesAsync(csv, deadline.Token);

        await appliance.StopAsync(deadline.Token);
        var last = RemoveLastEvent(appliance.DataDirectory);
        var truncated = await appliance.CliAsync(deadline.Token, "audit", "verify");

        exportJson.ExitCode.Should().Be(0, exportJson.Stderr);
        exportCsv.ExitCode.Should().Be(0, exportCsv.Stderr);
        verified.ExitCode.Should().Be(0, verified.Stderr);
        verified.Stderr.Should().Contain("Verification successful");
        verifiedCsv.ExitCode.Should().Be(0, verifiedCsv.Stderr);
        rejected.ExitCode.Should().NotBe(0);
        rejected.Stderr.Should().Contain("Verification failure");
        events.Select(e => e.GetProperty("action").GetString()).Should().Equal("appliance.initialised", "user.added", "login.failed", "login.ok");
        events[2].GetProperty("source").GetString().Should().Be("127.0.0.1");
        events[1].GetProperty("prev").GetString().Should().Be(events[0].GetProperty("hash").GetString());
        csvLines[0].Should().Be("sequence,at,actor,action,target,session,source,details,prev,hash");
        csvLines.Should().HaveCount(6, "a header, init, the first admin, the two logins and the JSON export, recorded before the CSV export");
        truncated.ExitCode.Should().Be(1);
        truncated.StderrLines.Should().ContainSingle().Which.Should().StartWith(
            $"privateserver: the audit trail is broken at event {last}: event {last} and later were removed: the head signed at ");
    }

    [Fact]
    public async Task AuditorPages_ListTheTrail_CheckTheChain_AndDownloadASignedExportThatOpensslVerifies()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        var passwordFile = appliance.DataDirectory + "-audrey.pw";
        await File.WriteAllTextAsync(passwordFile, "Auditor-Password-2026\n", deadline.Token);
        await SupportRig.MustAsync(appliance.CliAsync(deadline.Token, "user", "add", "audrey", "--role", "auditor", "--password-file", passwordFile));
        await using var browser = await WebBrowser.StartAsync();
        await using var tab = await browser.NewSessionAsync(appliance);
        await tab.SignInAsync("audrey", "Auditor-Password-2026");

        await tab.Page.GotoAsync("/audit/events");
        var actions = await tab.Page.Locator("#events td.action").AllInnerTextsAsync();
        await tab.Page.ClickAsync("#verify-chain button");
        var status = await tab.Page.GetAttributeAsync("#chain-status", "data-intact");
        var download = await tab.Page.RunAndWaitForDownloadAsync(() => tab.Page.ClickAsync("#export-events button"));
        var folder = appliance.DataDirectory + "-download";
        var zip = Path.Combine(folder, download.SuggestedFilename);
        await download.SaveAsAsync(zip);
        ZipFile.ExtractToDirectory(zip, folder);
        var json = Directory.GetFiles(folder, "*.json").Single();
        var ca = Path.Combine(folder, "ca.crt");
        await SupportRig.MustAsync(appliance.CliAsync(deadline.Token, "ca", "export", "--out", ca));
        var verified = await OpensslVerifyAsync(json, ca, deadline.Token);
        await tab.Page.GotoAsync("/audit/events");
        var newest = await tab.Page.Locator("#events td.action").First.InnerTextAsync();

        actions.Should().StartWith(["login.ok", "user.added"]).And.EndWith(["user.added", "appliance.initialised"]);
        status.Should().Be("true");
        download.SuggestedFilename.Should().MatchRegex(@"^privateserver-audit-\d{8}-\d{6}\.zip$");
        verified.ExitCode.Should().Be(0, verified.Stderr);
        newest.Should().Be("audit.exported", "the export itself is recorded");
        tab.Problems.Should().BeEmpty();
        tab.ForeignRequests.Should().BeEmpty();
    }

    private static Task<ProcessResult> OpensslVerifyAsync(string file, string ca, CancellationToken cancellationToken) =>
        ChildProcess.RunAsync(
            "openssl", ["cms", "-verify", "-binary", "-inform", "DER", "-in", file + ".sig", "-content", file, "-CAfile", ca, "-purpose", "any", "-out", "/dev/null"],
            cancellationToken);

    /// <summary>Cuts the last event off the trail (after the server signed its head on stopping); returns its number.</summary>
    private static long RemoveLastEvent(string dataDirectory)
    {
        using var database = Open(dataDirectory);
        var events = database.GetCollection("audit");
        var last = events.Max("_id").AsInt64;
        events.Delete(last).Should().BeTrue();
        return last;
    }

    private static LiteDatabase Open(string dataDirectory) => new(new ConnectionString
    {
        Filename = Path.Combine(dataDirectory, "privateserver.db"),
        Password = File.ReadAllText(Path.Combine(dataDirectory, "keys", "db.key")).Trim(),
        Connection = ConnectionType.Direct,
    });

    /// <summary>Turns the failed login (event 3, after init and the first admin) into a harmless-looking one, through LiteDB with the database key.</summary>
    private static void TamperWithEvent(string dataDirectory, long sequence)
    {
        using var database = Open(dataDirectory);
        var events = database.GetCollection("audit");
        var audit = events.FindById(sequence);
        audit["Action"] = "login.ok";
        events.Update(audit).Should().BeTrue();
    }
}
