using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>
/// Power cuts: the real appliance is killed with SIGKILL twenty times while a session relays, audit events are being
/// appended and mail waits in the outbox. After every restart the trail verifies, nothing committed before the kill is
/// lost or changed, the session the kill cut off is recorded as ended (by the restart, saying why) and its recorded stream
/// is saved with the hash of what reached the disk, the outbox still
/// holds every mail, and the host module is back online by itself. At the end every mail goes out exactly once.
/// </summary>
public sealed class CrashSafetyTests
{
    private const int Rounds = 20;

    [Fact]
    public async Task KilledTwentyTimesUnderLoad_LosesNothingCommitted_AndEverythingComesBack()
    {
        using var deadline = TestDeadline.Start(600);
        await using var smarthost = await SmtpSink.CreateAsync(deadline.Token, start: false);
        // The group records screen streams: the kill also cuts off a recording.
        await using var rig = await SupportRig.StartAsync(deadline.Token, environment: smarthost.ApplianceSettings(), recording: true);
        await using var echo = EchoServer.Start();
        var host = await rig.StartHostAsync(await rig.EnrollHostAsync("crash-pc", deadline.Token), deadline.Token, "--service", $"screen=127.0.0.1:{echo.Port}");
        var port = rig.Appliance.Port;
        var queued = new List<string>();

        for (var round = 1; round <= Rounds; round++)
        {
            // In flight: a relayed session with a recorded stream open, a mail in the outbox (the smarthost is down), and
            // audit appends under way.
            var connect = rig.StartConnect("crash-pc", "--forward", "screen=0");
            using var stream = await SessionTests.OpenAsync(await SupportRig.ForwardPortAsync(connect, "screen", deadline.Token), deadline.Token);
            (await SessionTests.EchoOnceAsync(stream, deadline.Token)).Should().BeTrue($"round {round}: the session relays");
            await WaitForRecordedAsync(rig, deadline.Token);

            queued.Add((await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "mail", "test", "--to", "crash@example.internal"))).Stdout.Trim());
            var committed = await ExportAsync(rig, deadline.Token);
            using var appending = new CancellationTokenSource();
            var appends = FailLoginsAsync(rig.Appliance, round, appending.Token);
            await Task.Delay(150 + (round * 17 % 200), deadline.Token);

            await rig.Appliance.KillAsync();
            await appending.CancelAsync();
            await appends;
            await rig.Appliance.RunAsync(deadline.Token, port);

            var verified = await rig.Appliance.CliAsync(deadline.Token, "audit", "verify");
            verified.ExitCode.Should().Be(0, $"round {round}: the trail is intact after the kill: {verified.Stderr}");
            var after = await ExportAsync(rig, deadline.Token);
            after.Count.Should().BeGreaterThan(committed.Count, $"round {round}: the restart and the appends before the kill are recorded");
            after.Take(committed.Count).Select(e => (e.Sequence, e.Hash)).Should().Equal(committed.Select(e => (e.Sequence, e.Hash)), $"round {round}: no committed event was lost or changed");
            var killedSession = committed.Last(e => e.Action == "session.granted").Session;
            after.Where(e => e.Action == "session.ended" && e.Session == killedSession).Select(e => (e.Actor, e.Reason)).Should().Equal(
                [("system", "the appliance stopped while the session ran")], $"round {round}: the session the kill cut off is ended at the restart, saying why");
            var cutOff = after.Where(e => e.Action == "recording.saved" && e.Session == killedSession).ToList();
            cutOff.Should().ContainSingle($"round {round}: the recording the kill cut off is saved at the restart")
                .Which.Details.Should().ContainKey("interrupted");
            var recording = Path.Combine(rig.Appliance.DataDirectory, "recordings", cutOff[0].Target!);
            var recorded = await File.ReadAllBytesAsync(recording, deadline.Token);
            Convert.ToHexStringLower(SHA256.HashData(recorded)).Should().Be(
                cutOff[0].Details["sha256"], $"round {round}: the trail holds the hash of the cut-off recording as it is on disk");
            CountPings(recorded).Should().Be(2, $"round {round}: what was recorded before the kill (the ping both ways) is in the saved recording");
            var queue = (await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "mail", "queue"))).Stdout;
            queued.Should().OnlyContain(id => queue.Contains(id + "\tqueued\t", StringComparison.Ordinal), $"round {round}: every queued mail is still queued");
            await host.WaitForStderrAsync("Online as ", deadline.Token, skip: round);
        }

        // Twenty failed rounds pushed the outbox's retries far out: the admin asks for them now, as one would.
        await smarthost.StartAsync(deadline.Token);
        foreach (var id in queued)
        {
            var retry = await rig.Appliance.CliAsync(deadline.Token, "mail", "retry", id);
            // The outbox's own retry may have taken the mail already (sent, or on its way): the count below checks it went out.
            (retry.ExitCode == 0
                || retry.Stderr.Contains("is already sent", StringComparison.Ordinal)
                || retry.Stderr.Contains("is being sent right now", StringComparison.Ordinal)).Should().BeTrue(retry.Stderr);
        }

        await smarthost.WaitForMessagesAsync(queued.Count, deadline.Token);
        await Task.Delay(3000, deadline.Token);
        smarthost.Messages().Select(m => m.MessageId![..m.MessageId!.IndexOf('.', StringComparison.Ordinal)])
            .Should().BeEquivalentTo(queued, "each mail went out exactly once");
    }

    /// <summary>
    /// Waits until the open recording (the only unsaved one) holds the echoed ping both ways on disk: written within a
    /// second although its block is far from full.
    /// </summary>
    private static async Task WaitForRecordedAsync(SupportRig rig, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(rig.Appliance.DataDirectory, "recordings");
        using var within = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        within.CancelAfter(TimeSpan.FromSeconds(20));
        while (true)
        {
            var open = Directory.Exists(folder) ? Directory.GetFiles(folder, "*.psrec.part", SearchOption.AllDirectories) : [];
            if (open.Length == 1 && CountPings(await File.ReadAllBytesAsync(open[0], within.Token)) == 2)
            {
                return;
            }

            await Task.Delay(100, within.Token);
        }
    }

    private static int CountPings(byte[] recording)
    {
        var count = 0;
        var rest = recording.AsSpan();
        int found;
        while ((found = rest.IndexOf("ping\n"u8)) >= 0)
        {
            count++;
            rest = rest[(found + 1)..];
        }

        return count;
    }

    /// <summary>The trail as an export sees it: every event's sequence, hash, actor, action, session, target and details.</summary>
    private static async Task<List<Exported>> ExportAsync(
        SupportRig rig, CancellationToken cancellationToken)
    {
        var file = Path.Combine(rig.Root, "audit-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        await SupportRig.MustAsync(rig.Appliance.CliAsync(cancellationToken, "audit", "export", "--format", "json", "--out", file));
        using var document = JsonDocument.Parse(await File.ReadAllBytesAsync(file, cancellationToken));
        foreach (var extra in new[] { file, file + ".sig", file + ".chain.pem" })
        {
            File.Delete(extra);
        }

        return [.. document.RootElement.GetProperty("events").EnumerateArray()
            .Select(e => new Exported(
                e.GetProperty("sequence").GetInt64(), e.GetProperty("hash").GetString()!, e.GetProperty("actor").GetString()!, e.GetProperty("action").GetString()!,
                e.GetProperty("session").GetString(), e.GetProperty("target").GetString(),
                e.GetProperty("details").ValueKind == JsonValueKind.Object
                    ? e.GetProperty("details").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ToString())
                    : []))];
    }

    /// <summary>
    /// Failed sign-ins (each one an audit event) from several loopback addresses, nine per address so none is blocked,
    /// until cancelled or the server dies under them.
    /// </summary>
    private static async Task FailLoginsAsync(ApplianceProcess appliance, int round, CancellationToken cancellationToken)
    {
        var clients = Enumerable.Range(1, 8)
            .Select(i => CaTrust.CreateClient(appliance.Ca, appliance.BaseAddress, null, IPAddress.Parse($"127.3.{round}.{i}")))
            .ToList();
        try
        {
            await Task.WhenAll(clients.Select(async client =>
            {
                for (var attempt = 0; attempt < 9 && !cancellationToken.IsCancellationRequested; attempt++)
                {
                    try
                    {
                        using var response = await client.PostAsJsonAsync("/api/v1/auth/token", new { user = $"nobody-{attempt}", password = "Not-The-Password-1" }, cancellationToken);
                    }
                    catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
                    {
                        return; // The server was killed under it.
                    }
                }
            }));
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    private sealed record Exported(long Sequence, string Hash, string Actor, string Action, string? Session, string? Target, Dictionary<string, string> Details)
    {
        public string? Reason => Details.GetValueOrDefault("reason");
    }
}
