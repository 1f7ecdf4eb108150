using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>
/// A real VNC server (Xvfb + x11vnc) behind the host module, a real RFB client through the
/// supporter's forward: the supporter sees the screen; with control its pointer moves the X
/// pointer; view-only is enforced by the host module, whatever the client sends.
/// </summary>
public sealed class ScreenTests
{
    [Fact]
    public async Task Screen_WithControl_ShowsThePaintedColourAndMovesThePointer()
    {
        using var deadline = TestDeadline.Start();
        await using var display = await XDisplay.StartAsync(deadline.Token);
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        var state = await rig.EnrollHostAsync("desktop", deadline.Token);
        await rig.StartHostAsync(state, deadline.Token, "--service", $"screen=127.0.0.1:{display.VncPort}");
        await display.PaintAsync("#d02030", deadline.Token);
        await display.MovePointerAsync(10, 10, deadline.Token);

        var connect = rig.StartConnect("desktop", "--forward", "screen=0");
        var port = await SupportRig.ForwardPortAsync(connect, "screen", deadline.Token);
        await using var vnc = await RfbClient.ConnectAsync("127.0.0.1", port, deadline.Token);
        var pixel = await vnc.ReadPixelAsync(100, 100, deadline.Token);
        await vnc.SendPointerAsync(123, 45, 0, deadline.Token);
        var moved = await display.WaitForPointerAsync((123, 45), deadline.Token);

        (vnc.Width, vnc.Height).Should().Be((XDisplay.Width, XDisplay.Height));
        pixel.Should().Be(((byte)0xd0, (byte)0x20, (byte)0x30));
        moved.Should().Be((123, 45));
    }

    [Fact]
    public async Task Screen_ViewOnly_ShowsTheScreenButThePointerDoesNotMove()
    {
        using var deadline = TestDeadline.Start();
        await using var display = await XDisplay.StartAsync(deadline.Token);
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        var state = await rig.EnrollHostAsync("desktop", deadline.Token);
        await rig.StartHostAsync(state, deadline.Token, "--service", $"screen=127.0.0.1:{display.VncPort}");
        await display.PaintAsync("#20c040", deadline.Token);
        await display.MovePointerAsync(10, 10, deadline.Token);

        var connect = rig.StartConnect("desktop", "--forward", "screen=0", "--view-only");
        var port = await SupportRig.ForwardPortAsync(connect, "screen", deadline.Token);
        await using var vnc = await RfbClient.ConnectAsync("127.0.0.1", port, deadline.Token);
        var before = await vnc.ReadPixelAsync(50, 60, deadline.Token);
        await vnc.SendPointerAsync(123, 45, 1, deadline.Token);
        await vnc.SendPointerAsync(124, 46, 0, deadline.Token);
        await vnc.SendKeyAsync(0x61, down: true, deadline.Token);
        await display.PaintAsync("#102070", deadline.Token);
        var after = await PixelAfterAsync(vnc, (0x10, 0x20, 0x70), deadline.Token);
        var pointer = await display.PointerAsync(deadline.Token);

        connect.Stderr.Should().Contain("view, tunnel screen");
        before.Should().Be(((byte)0x20, (byte)0xc0, (byte)0x40));
        after.Should().Be(((byte)0x10, (byte)0x20, (byte)0x70), "watching still works after the dropped input");
        pointer.Should().Be((10, 10), "the host module dropped the pointer events");
    }

    /// <summary>Reads a pixel until it has the expected colour (x11vnc polls the screen) or 10 s pass.</summary>
    private static async Task<(byte R, byte G, byte B)> PixelAfterAsync(RfbClient vnc, (byte R, byte G, byte B) expected, CancellationToken cancellationToken)
    {
        var pixel = await vnc.ReadPixelAsync(50, 60, cancellationToken);
        for (var i = 0; i < 50 && pixel != expected; i++)
        {
            await Task.Delay(200, cancellationToken);
            pixel = await vnc.ReadPixelAsync(50, 60, cancellationToken);
        }

        return pixel;
    }
}
