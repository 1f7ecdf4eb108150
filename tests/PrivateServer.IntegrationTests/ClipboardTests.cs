using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>
/// Clipboard text between supporter and host over the real screen (Xvfb + x11vnc, which sends what is copied in the X cut
/// buffer and fills it from its viewers): both ways with control, and never the host's clipboard to a supporter who only watches.
/// </summary>
public sealed class ClipboardTests
{
    [Fact]
    public async Task Clip_WithControl_PutsTextOnTheHostAndPrintsWhatItsUserCopies()
    {
        using var deadline = TestDeadline.Start(120);
        await using var display = await XDisplay.StartAsync(deadline.Token);
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await StartScreenHostAsync(rig, display, "desk-clip", deadline.Token);

        var sent = await ChildProcess.RunAsync(Programs.Supporter, ["clip", "desk-clip", "ticket 4711: restart the spooler", "--state", rig.SupporterState], deadline.Token);

        sent.ExitCode.Should().Be(0, sent.Stderr);
        sent.Stderr.Should().Contain("Put 32 characters on the host's clipboard.");
        (await display.WaitForCutBufferAsync("ticket 4711: restart the spooler", deadline.Token)).Should().Be("ticket 4711: restart the spooler");

        var waiting = rig.Track(ChildProcess.Start(Programs.Supporter, ["clip", "desk-clip", "--timeout", "60", "--state", rig.SupporterState]));
        await waiting.WaitForStderrAsync("Waiting for the host's user to copy text", deadline.Token);
        await display.CopyAsync("error 0x80070005 in the event log", deadline.Token);
        var copied = await waiting.WaitForExitAsync(deadline.Token);

        copied.ExitCode.Should().Be(0, copied.Stderr);
        copied.Stdout.Should().Be("error 0x80070005 in the event log\n");
    }

    [Fact]
    public async Task Clip_WhenTheHostsUserCopiesNothing_FailsAfterItsTimeoutAndSaysSo()
    {
        using var deadline = TestDeadline.Start(120);
        await using var display = await XDisplay.StartAsync(deadline.Token);
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await StartScreenHostAsync(rig, display, "desk-quiet", deadline.Token);

        var result = await ChildProcess.RunAsync(Programs.Supporter, ["clip", "desk-quiet", "--timeout", "2", "--state", rig.SupporterState], deadline.Token);

        result.ExitCode.Should().Be(1);
        result.Stdout.Should().BeEmpty();
        result.Stderr.Should().Contain("the host's user copied no text within 2 s");
    }

    [Fact]
    public async Task Screen_ViewOnly_NeverReceivesTheHostsClipboard_WhileASupporterWithControlDoes()
    {
        using var deadline = TestDeadline.Start(120);
        await using var display = await XDisplay.StartAsync(deadline.Token);
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await StartScreenHostAsync(rig, display, "desk-watch", deadline.Token);
        await display.PaintAsync("#3060a0", deadline.Token);

        var watching = rig.StartConnect("desk-watch", "--forward", "screen=0", "--view-only");
        await using var watcher = await RfbClient.ConnectAsync("127.0.0.1", await SupportRig.ForwardPortAsync(watching, "screen", deadline.Token), deadline.Token);
        var controlling = rig.StartConnect("desk-watch", "--forward", "screen=0");
        await using var controller = await RfbClient.ConnectAsync("127.0.0.1", await SupportRig.ForwardPortAsync(controlling, "screen", deadline.Token), deadline.Token);
        (await watcher.ReadPixelAsync(5, 5, deadline.Token)).Should().Be(((byte)0x30, (byte)0x60, (byte)0xa0), "the watcher sees the screen");
        await controller.ReadPixelAsync(5, 5, deadline.Token);

        await display.CopyAsync("the host's password is hunter2", deadline.Token);
        var received = await controller.WaitForCutTextAsync(deadline.Token);
        // x11vnc sent it to both viewers at once; an update the watcher asks for now comes after it on the same stream.
        await display.PaintAsync("#a06030", deadline.Token);
        var after = await watcher.ReadPixelAsync(5, 5, deadline.Token);
        for (var i = 0; i < 50 && after != (0xa0, 0x60, 0x30); i++)
        {
            await Task.Delay(200, deadline.Token);
            after = await watcher.ReadPixelAsync(5, 5, deadline.Token);
        }

        received.Should().Be("the host's password is hunter2");
        after.Should().Be(((byte)0xa0, (byte)0x60, (byte)0x30), "watching goes on");
        watcher.CutTexts.Should().BeEmpty("the host module drops the host's clipboard for a supporter who only watches");
    }

    /// <summary>An enrolled host module sharing <paramref name="display"/>'s x11vnc as its screen.</summary>
    private static async Task StartScreenHostAsync(SupportRig rig, XDisplay display, string host, CancellationToken cancellationToken) =>
        await rig.StartHostAsync(await rig.EnrollHostAsync(host, cancellationToken), cancellationToken, "--service", $"screen=127.0.0.1:{display.VncPort}");
}
