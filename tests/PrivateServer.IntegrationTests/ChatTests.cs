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
