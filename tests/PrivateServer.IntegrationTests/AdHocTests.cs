using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>
/// Ad-hoc support with nothing installed: the supporter's 8-digit code, <c>privateserver-host join</c>
/// from an empty folder, consent with the support terms, one session, then nothing can reconnect.
/// </summary>
public sealed class AdHocTests
{
    private const string TermsEn = "You allow the supporter to see and use this computer until you type stop.";
    private const string TermsDe = "Sie erlauben dem Supporter, diesen Computer zu sehen und zu bedienen, bis Sie stop eingeben.";

    private static readonly Dictionary<string, string> Terms = new()
    {
        ["PRIVATESERVER__Sessions__SupportTerms__en"] = TermsEn,
        ["PRIVATESERVER__Sessions__SupportTerms__de"] = TermsDe,
    };

    [Fact]
    public async Task Join_WithTheSupportersCode_ShowsTheScreenAfterConsentAndLeavesNoFileBehind()
    {
        using var deadline = TestDeadline.Start();
        await using var display = await XDisplay.StartAsync(deadline.Token);
        // The group's policy is "auto": an ad-hoc customer is asked anyway.
        await using var rig = await SupportRig.StartAsync(deadline.Token, consent: "auto", environment: Terms);
        await display.PaintAsync("#3070b0", deadline.Token);
        var code = await rig.CreateCodeAsync(deadline.Token);
        var connect = rig.StartConnect(code, "--forward", "screen=0");
        await connect.WaitForStderrAsync("Waiting for the customer to join", deadline.Token);
        var (customer, folders) = CustomerFolders(rig);

        var join = rig.StartJoin(["--code", code, "--name", "carol-pc", "--service", $"screen=127.0.0.1:{display.VncPort}"], customer, folders[0]);
        await join.WaitForStderrAsync(@"alice asks for a support session with: see your screen, use your keyboard and mouse, reach the service 'screen', chat with you\. Allow\? \[y/N\]", deadline.Token);
        await join.WriteLineAsync("y", deadline.Token);
        var port = await SupportRig.ForwardPortAsync(connect, "screen", deadline.Token);
        await using (var vnc = await RfbClient.ConnectAsync("127.0.0.1", port, deadline.Token))
        {
            var pixel = await vnc.ReadPixelAsync(100, 100, deadline.Token);
            pixel.Should().Be(((byte)0x30, (byte)0x70, (byte)0xb0));
        }

        connect.Terminate();
        var joined = await join.WaitForExitAsync(deadline.Token);
        var again = await ChildProcess.RunAsync(
            Programs.Host, ["join", "--server", rig.ServerUrl, "--ca-fingerprint", rig.Fingerprint, "--code", code], deadline.Token);

        code.Should().MatchRegex("^[0-9]{8}$");
        joined.ExitCode.Should().Be(0, joined.Stderr);
        joined.Stderr.Should().Contain("Support terms (please read):\n" + TermsEn).And.Contain("The session has ended");
        folders.SelectMany(f => Directory.EnumerateFileSystemEntries(f, "*", SearchOption.AllDirectories))
            .Should().BeEmpty("join installs nothing and leaves no file behind");
        rig.Appliance.Server.Stderr.Should().Contain($"customer carol-pc accepted the support terms (en, SHA-256 {Sha256(TermsEn)})");
        again.ExitCode.Should().Be(1);
        again.StderrLines.Should().ContainSingle().Which.Should().Be($"privateserver-host: the session code {code[..4]} {code[4..]} was already used; ask your supporter for a new one");
    }

    [Fact]
    public async Task Join_InGerman_ShowsTheGermanTermsAcceptsJaAndStopsOnTheCustomersWord()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token, environment: Terms);
        await using var echo = EchoServer.Start();
        var code = await rig.CreateCodeAsync(deadline.Token);
        var connect = rig.StartConnect(code, "--forward", "echo=0");
        await connect.WaitForStderrAsync("Waiting for the customer to join", deadline.Token);

        var join = rig.StartJoin(
            ["--code", code, "--name", "pc-mueller", "--service", $"echo=127.0.0.1:{echo.Port}"],
            new Dictionary<string, string> { ["LC_ALL"] = "de_DE.UTF-8" });
        await join.WaitForStderrAsync(@"alice bittet um eine Support-Sitzung mit: Ihren Bildschirm sehen, Tastatur und Maus bedienen, den Dienst 'echo' erreichen, mit Ihnen chatten\. Erlauben\? \[j/N\]", deadline.Token);
        await join.WriteLineAsync("ja", deadline.Token);
        var port = await SupportRig.ForwardPortAsync(connect, "echo", deadline.Token);
        using var stream = await SessionTests.OpenAsync(port, deadline.Token);
        var echoed = await SessionTests.EchoOnceAsync(stream, deadline.Token);
        await join.WriteLineAsync("stop", deadline.Token);
        var stopped = await connect.WaitForExitAsync(deadline.Token);
        var joined = await join.WaitForExitAsync(deadline.Token);

        echoed.Should().BeTrue();
        join.Stderr.Should().Contain("Nutzungsbedingungen (bitte lesen):\n" + TermsDe)
            .And.Contain("Sitzung ").And.Contain("Geben Sie 'stop' und Enter ein");
        stopped.StderrLines.Should().Contain("privateserver-supporter: the session ended: the host's user ended the session (emergency stop)");
        joined.ExitCode.Should().Be(0, joined.Stderr);
        joined.Stderr.Should().Contain("1 Sitzung(en) beendet").And.Contain("Die Sitzung ist beendet");
        rig.Appliance.Server.Stderr.Should().Contain($"customer pc-mueller accepted the support terms (de, SHA-256 {Sha256(TermsDe)})");
    }

    [Fact]
    public async Task Join_WhenTheCustomerAnswersNo_OpensNothingAndTheCodeIsSpent()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await using var echo = EchoServer.Start();
        var code = await rig.CreateCodeAsync(deadline.Token);
        var connect = rig.StartConnect(code, "--forward", "echo=0");

        var join = rig.StartJoin(["--code", code, "--service", $"echo=127.0.0.1:{echo.Port}"]);
        await join.WaitForStderrAsync(@"Allow\? \[y/N\]", deadline.Token);
        await join.WriteLineAsync("n", deadline.Token);
        var refused = await connect.WaitForExitAsync(deadline.Token);
        var joined = await join.WaitForExitAsync(deadline.Token);
        var retry = await ChildProcess.RunAsync(Programs.Supporter, ["connect", code, "--state", rig.SupporterState], deadline.Token);

        refused.ExitCode.Should().Be(1);
        refused.Stderr.Should().Contain("the session was refused: the host '").And.Contain("refused the session: the user refused").And.NotContain("Forwarding");
        joined.ExitCode.Should().Be(0, joined.Stderr);
        joined.Stderr.Should().Contain("You refused: nothing was opened.");
        echo.Accepted.Should().Be(0, "no stream reached the customer's service");
        retry.ExitCode.Should().Be(1);
        retry.StderrLines.Should().ContainSingle().Which.Should().Contain("has left");
    }

    [Fact]
    public async Task Codes_WrongExpiredOrSomeoneElses_AreRefusedClearly()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(
            deadline.Token, environment: new Dictionary<string, string> { ["PRIVATESERVER__Sessions__CodeLifetime"] = "00:00:05" });
        await rig.AddSupporterAsync("bob", "Bob-Password-2026", SupportRig.Group, deadline.Token);
        var bobState = Path.Combine(rig.Root, "supporter-bob");
        await SupportRig.MustAsync(rig.LoginAsync("bob", "Bob-Password-2026", bobState, deadline.Token));
        var code = await rig.CreateCodeAsync(deadline.Token);

        var foreign = await ChildProcess.RunAsync(Programs.Supporter, ["connect", code, "--state", bobState], deadline.Token);
        var malformed = await JoinAsync(rig, "1234567", deadline.Token);
        var wrong = await JoinAsync(rig, Wrong(code), deadline.Token);
        await Task.Delay(TimeSpan.FromSeconds(6), deadline.Token);
        var expired = await JoinAsync(rig, code, deadline.Token);
        var late = await ChildProcess.RunAsync(Programs.Supporter, ["connect", code, "--state", rig.SupporterState], deadline.Token);

        foreign.ExitCode.Should().Be(1);
        foreign.StderrLines.Should().ContainSingle().Which.Should().Contain("no live session code").And.Contain("of yours");
        malformed.ExitCode.Should().Be(1);
        malformed.StderrLines.Should().ContainSingle().Which.Should().Be("privateserver-host: --code: a session code has 8 digits");
        wrong.ExitCode.Should().Be(1);
        wrong.StderrLines.Should().ContainSingle().Which.Should().Contain("there is no session code");
        expired.ExitCode.Should().Be(1);
        expired.StderrLines.Should().ContainSingle().Which.Should().Contain("has expired; ask your supporter for a new one");
        late.ExitCode.Should().Be(1);
        late.StderrLines.Should().ContainSingle().Which.Should().Contain("expired");
        rig.Appliance.Server.Stderr.Should().Contain("Session code attempt from 127.0.0.1 failed: unknown code").And.NotContain(code);
    }

    [Fact]
    public async Task Connect_WithACode_GivesUpWhenItExpiresBeforeTheCustomerJoins()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(
            deadline.Token, environment: new Dictionary<string, string> { ["PRIVATESERVER__Sessions__CodeLifetime"] = "00:00:05" });
        var code = await rig.CreateCodeAsync(deadline.Token);

        var connect = await ChildProcess.RunAsync(Programs.Supporter, ["connect", code, "--state", rig.SupporterState], deadline.Token);

        connect.ExitCode.Should().Be(1);
        connect.Stderr.Should().Contain("Waiting for the customer to join")
            .And.Contain("expired before a customer joined with it; create a new one");
    }

    [Fact]
    public async Task CodeGuessing_ThousandAttemptsFromOneAddress_AreCutOffWhileTheRealCustomerGetsIn()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await using var echo = EchoServer.Start();
        var code = await rig.CreateCodeAsync(deadline.Token);
        var attacker = IPAddress.Parse("127.0.0.3");

        var answers = new List<string>();
        for (var i = 0; i < 1000; i++)
        {
            answers.Add(await TryCodeAsync(rig.Appliance, (10_000_000 + (i * 7919)).ToString(System.Globalization.CultureInfo.InvariantCulture), attacker, deadline.Token));
        }

        var connect = rig.StartConnect(code, "--forward", "echo=0");
        var join = rig.StartJoin(["--code", code, "--service", $"echo=127.0.0.1:{echo.Port}"]);
        await join.WaitForStderrAsync(@"Allow\? \[y/N\]", deadline.Token);
        await join.WriteLineAsync("y", deadline.Token);
        var port = await SupportRig.ForwardPortAsync(connect, "echo", deadline.Token);
        using var stream = await SessionTests.OpenAsync(port, deadline.Token);

        var judged = answers.Count(a => a.Contains("there is no session code", StringComparison.Ordinal));
        judged.Should().BeInRange(5, 10, "after 5 free failures the address must wait, after 10 it is blocked");
        answers.Skip(20).Should().OnlyContain(a => a.Contains("too many wrong session codes; try again in 15 minutes", StringComparison.Ordinal));
        (await SessionTests.EchoOnceAsync(stream, deadline.Token)).Should().BeTrue("the owner of the valid code from another address gets in");
        rig.Appliance.Server.Stderr.Should().Contain("Session code attempt from 127.0.0.3 refused unseen (blocked");
    }

    [Fact]
    public async Task Queue_TwoSupportersRaceForOneRequest_ExactlyOneGetsTheSession()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await using var echo = EchoServer.Start();
        await rig.AddSupporterAsync("bob", "Bob-Password-2026", SupportRig.Group, deadline.Token);
        var bobState = Path.Combine(rig.Root, "supporter-bob");
        await SupportRig.MustAsync(rig.LoginAsync("bob", "Bob-Password-2026", bobState, deadline.Token));
        var join = rig.StartJoin(["--request", "Carol: the printer prints nothing", "--group", SupportRig.Group, "--name", "carol-pc", "--service", $"echo=127.0.0.1:{echo.Port}"]);
        var waiting = await join.WaitForStderrAsync(@"Your request is waiting as (rq-\S+)\.", deadline.Token);
        var queue = await SupportRig.MustAsync(ChildProcess.RunAsync(Programs.Supporter, ["queue", "--state", rig.SupporterState], deadline.Token));
        var requestId = waiting.Groups[1].Value;

        var alice = rig.StartConnect(requestId, "--forward", "echo=0");
        var bob = rig.Track(ChildProcess.Start(Programs.Supporter, ["connect", requestId, "--state", bobState, "--forward", "echo=0"]));
        await join.WaitForStderrAsync(@"(alice|bob) asks for a support session.*Allow\? \[y/N\]", deadline.Token);
        await join.WriteLineAsync("y", deadline.Token);
        var loser = await Task.WhenAny(alice.WaitForExitAsync(deadline.Token), bob.WaitForExitAsync(deadline.Token)).Unwrap();
        var winner = alice.HasExited ? bob : alice;
        var port = await SupportRig.ForwardPortAsync(winner, "echo", deadline.Token);
        using var stream = await SessionTests.OpenAsync(port, deadline.Token);
        var echoed = await SessionTests.EchoOnceAsync(stream, deadline.Token);
        var after = await SupportRig.MustAsync(ChildProcess.RunAsync(Programs.Supporter, ["queue", "--state", bobState], deadline.Token));

        queue.Stdout.Should().MatchRegex($"^{requestId}\t\\S+ \\S+Z\t{SupportRig.Group}\tcarol-pc\tCarol: the printer prints nothing\n$");
        loser.ExitCode.Should().Be(1);
        loser.StderrLines.Should().ContainSingle().Which.Should().Contain($"no waiting request '{requestId}' for you");
        echoed.Should().BeTrue("the winner's session works");
        after.Stdout.Should().BeEmpty("a taken request leaves the queue");
        join.HasExited.Should().BeFalse();
    }

    /// <summary>One join attempt over a raw ad-hoc channel from <paramref name="from"/>; returns what the server answered.</summary>
    private static async Task<string> TryCodeAsync(ApplianceProcess appliance, string code, IPAddress from, CancellationToken cancellationToken)
    {
        using var socket = await ModuleSocket.ConnectAsync(appliance, "api/v1/adhoc/connect", null, null, cancellationToken, from);
        var join = $$"""{"type":"adhoc.join","version":1,"code":"{{code}}","name":"x","os":"x","moduleVersion":"x","services":[]}""";
        await socket.SendAsync(Encoding.UTF8.GetBytes(join), WebSocketMessageType.Text, true, cancellationToken);
        var buffer = new byte[4096];
        var result = await socket.ReceiveAsync(buffer, cancellationToken);
        var answer = result.MessageType == WebSocketMessageType.Text ? Encoding.UTF8.GetString(buffer, 0, result.Count) : "closed";
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken);
        return answer;
    }

    private static Task<ProcessResult> JoinAsync(SupportRig rig, string code, CancellationToken cancellationToken) =>
        ChildProcess.RunAsync(Programs.Host, ["join", "--server", rig.ServerUrl, "--ca-fingerprint", rig.Fingerprint, "--code", code], cancellationToken);

    /// <summary>A code that is certainly not <paramref name="code"/> (and not live: the only live code is that one).</summary>
    private static string Wrong(string code) => code[..7] + (char)('0' + ((code[7] - '0' + 1) % 10));

    /// <summary>An empty working folder, home, temp and config folder for the customer's program.</summary>
    private static (Dictionary<string, string> Environment, string[] Folders) CustomerFolders(SupportRig rig)
    {
        var root = Path.Combine(rig.Root, "customer");
        string[] folders = [Path.Combine(root, "cwd"), Path.Combine(root, "home"), Path.Combine(root, "tmp"), Path.Combine(root, "config")];
        foreach (var folder in folders)
        {
            Directory.CreateDirectory(folder);
        }

        return (new Dictionary<string, string> { ["HOME"] = folders[1], ["TMPDIR"] = folders[2], ["XDG_CONFIG_HOME"] = folders[3] }, folders);
    }

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
