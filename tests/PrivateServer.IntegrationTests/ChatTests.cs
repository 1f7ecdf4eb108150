using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>Chat between the supporter's <c>chat</c> and the host's terminal, through a real appliance, kept in the session protocol.</summary>
public sealed class ChatTests
{
    [Fact]
    public async Task Chat_BothWays_ArrivesAndIsKeptInTheSessionProtocol()
    {
        using var deadline = TestDeadline.Start(120);
        await using var rig = await SupportRig.StartAsync(deadline.Token, consent: "auto");
        var state = await rig.EnrollHostAsync("chat-pc", deadline.Token);
        var host = await rig.StartHostAsync(state, deadline.Token);

        var chat = rig.Track(ChildProcess.Start(Programs.Supporter, ["chat", "chat-pc", "--state", rig.SupporterState]));
        await chat.WaitForStderrAsync("Chat with 'chat-pc' \\(session (se-[A-Za-z0-9_-]+)\\)", deadline.Token);
        await host.WaitForStderrAsync("To write to the supporter, type a line and press Enter", deadline.Token);

        await chat.WriteLineAsync("Hello, this is support. Is the printer on? https://example.com/help", deadline.Token);
        await host.WaitForStderrAsync($"{SupportRig.Supporter}: Hello, this is support\\. Is the printer on\\? https://example\\.com/help", deadline.Token);
        await host.WriteLineAsync("Yes, it is on \u2014 but nothing prints.", deadline.Token);
        await WaitForStdoutAsync(chat, "chat-pc: Yes, it is on \u2014 but nothing prints.", deadline.Token);
        chat.Stdout.Should().MatchRegex(@"^\d\d:\d\d:\d\d chat-pc: ");

        chat.CloseInput();
        (await chat.WaitForExitAsync(deadline.Token)).ExitCode.Should().Be(0, chat.Stderr);
        var session = System.Text.RegularExpressions.Regex.Match(chat.Stderr, "session (se-[A-Za-z0-9_-]+)").Groups[1].Value;

        var protocol = Path.Combine(rig.Root, "session.json");
        await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "audit", "export", "--session", session, "--format", "json", "--out", protocol));
        var json = await File.ReadAllTextAsync(protocol, deadline.Token);
        json.Should().Contain("chat.message").And.Contain("Is the printer on?").And.Contain("nothing prints.");
        json.IndexOf("Is the printer on?", StringComparison.Ordinal).Should().BeLessThan(json.IndexOf("nothing prints.", StringComparison.Ordinal), "in the order they were written");
    }

    [Fact]
    public async Task Chat_InARunningConnectSession_GoesBothWays_OnlyForItsSupporter_AndLeavingItKeepsTheSession()
    {
        using var deadline = TestDeadline.Start(120);
        await using var rig = await SupportRig.StartAsync(deadline.Token, consent: "auto");
        await rig.AddSupporterAsync("bob", "Bob-Password-2026-x", SupportRig.Group, deadline.Token);
        var bobState = Path.Combine(rig.Root, "supporter-bob");
        await SupportRig.MustAsync(rig.LoginAsync("bob", "Bob-Password-2026-x", bobState, deadline.Token));
        await using var echo = EchoServer.Start();
        var host = await rig.StartHostAsync(await rig.EnrollHostAsync("desk-7", deadline.Token), deadline.Token, "--service", $"echo=127.0.0.1:{echo.Port}");

        var connect = rig.StartConnect("desk-7", "--forward", "echo=0", "--view-only");
        var session = (await connect.WaitForStderrAsync("to answer: privateserver-supporter chat (se-[A-Za-z0-9_-]+)\n", deadline.Token)).Groups[1].Value;
        var chat = rig.Track(ChildProcess.Start(Programs.Supporter, ["chat", session, "--state", rig.SupporterState]));
        await chat.WaitForStderrAsync($"Chat in your session {session} with 'desk-7'", deadline.Token);

        await host.WriteLineAsync("The screen went black after the update.", deadline.Token);
        await WaitForStdoutAsync(chat, "desk-7: The screen went black after the update.", deadline.Token);
        await connect.WaitForStderrAsync("desk-7: The screen went black after the update\\.", deadline.Token);
        await chat.WriteLineAsync("I am looking at it now.", deadline.Token);
        await host.WaitForStderrAsync($"{SupportRig.Supporter}: I am looking at it now\\.", deadline.Token);

        var intruder = await ChildProcess.RunAsync(Programs.Supporter, ["chat", session, "--state", bobState], deadline.Token, standardInput: "hello\n");

        chat.CloseInput();
        var left = await chat.WaitForExitAsync(deadline.Token);
        var port = await SupportRig.ForwardPortAsync(connect, "echo", deadline.Token);
        var echoed = await EchoOnceAsync(port, deadline.Token);

        intruder.ExitCode.Should().Be(1);
        intruder.Stderr.Should().Contain("no running session of yours with that id to chat in");
        host.Stderr.Should().NotContain("bob");
        left.ExitCode.Should().Be(0, left.Stderr);
        left.Stderr.Should().Contain("Left the chat.");
        connect.HasExited.Should().BeFalse("leaving the chat does not end the session");
        echoed.Should().Be("still here");
        var protocol = Path.Combine(rig.Root, "session.json");
        await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "audit", "export", "--session", session, "--format", "json", "--out", protocol));
        (await File.ReadAllTextAsync(protocol, deadline.Token)).Should().Contain("screen went black").And.Contain("looking at it now");
    }

    private static async Task<string> EchoOnceAsync(int port, CancellationToken cancellationToken)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, port, cancellationToken);
        var stream = tcp.GetStream();
        await stream.WriteAsync("still here"u8.ToArray(), cancellationToken);
        var buffer = new byte[10];
        await stream.ReadExactlyAsync(buffer, cancellationToken);
        return System.Text.Encoding.ASCII.GetString(buffer);
    }

    [Fact]
    public async Task HostLine_WithoutAChatSession_OnlyRemindsOfStop()
    {
        using var deadline = TestDeadline.Start(60);
        await using var rig = await SupportRig.StartAsync(deadline.Token, consent: "auto");
        var state = await rig.EnrollHostAsync("quiet-pc", deadline.Token);
        var host = await rig.StartHostAsync(state, deadline.Token);
        var reminders = System.Text.RegularExpressions.Regex.Count(host.Stderr, "Type 'stop' and Enter");
        await host.WriteLineAsync("hello?", deadline.Token);
        await host.WaitForStderrAsync("Type 'stop' and Enter", deadline.Token, skip: reminders);
        host.Stderr.Should().NotContain("hello?");
    }

    private static async Task WaitForStdoutAsync(ChildProcess process, string text, CancellationToken cancellationToken)
    {
        while (!process.Stdout.Contains(text, StringComparison.Ordinal))
        {
            process.HasExited.Should().BeFalse(process.Stderr);
            await Task.Delay(50, cancellationToken);
        }
    }
}
