using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>Server-side screen recordings: switched on by the group's policy, written by the relay, hashed into the audit trail.</summary>
public sealed class RecordingTests
{
    [Fact]
    public async Task ScreenStream_OfAGroupWithRecordingOn_IsRecordedWithItsHashInTheTrail_AndReplaysInTheBrowserAtTheRightMoments()
    {
        using var deadline = TestDeadline.Start();
        await using var display = await XDisplay.StartAsync(deadline.Token);
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        var state = await rig.EnrollHostAsync("desktop", deadline.Token);
        await rig.StartHostAsync(state, deadline.Token, "--service", $"screen=127.0.0.1:{display.VncPort}");
        await display.PaintAsync("#c08020", deadline.Token);
        await using var browser = await WebBrowser.StartAsync();
        await using var admin = await browser.NewSessionAsync(rig.Appliance);
        await admin.SignInAsync("admin", rig.Appliance.AdminPassword);
        await admin.Page.GotoAsync("/admin/groups");
        var row = admin.Page.Locator("tr", new PageLocatorOptions { HasText = SupportRig.Group });
        await row.Locator("input[name=recording]").CheckAsync();
        await row.Locator("button[type=submit]").ClickAsync();
        await using var tab = await browser.NewSessionAsync(rig.Appliance);
        await tab.SignInAsync(SupportRig.Supporter, SupportRig.SupporterPassword);

        await (await tab.HostOnlineAsync("desktop")).GetByText("View only").ClickAsync();
        await tab.WaitForAsync("#session-status[data-state=connected]", "#session-status");
        var colour = await WebViewerTests.CanvasPixelAsync(tab.Page, 40, 40, "c08020", deadline.Token);
        // The first colour stays 4 s; the replay is checked 3 s before the recording's end, which lands inside those 4 s
        // however long the change took to show and the session to end (up to 2.5 s together).
        await Task.Delay(4000, deadline.Token);
        await display.PaintAsync("#2060d0", deadline.Token);
        var changed = await WebViewerTests.CanvasPixelAsync(tab.Page, 40, 40, "2060d0", deadline.Token);
        await Task.Delay(500, deadline.Token);
        await tab.Page.ClickAsync("#end-session");
        await tab.Page.Locator("#session-status[data-state=ended]").WaitForAsync();
        var export = Path.Combine(rig.Root, "audit.json");
        string? file = null;
        for (var i = 0; i < 50 && file is null; i++)
        {
            // The recording is closed and hashed when the relay stream has ended, a moment after the session.
            await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "audit", "export", "--format", "json", "--out", export));
            file = RecordingEvent(export)?.GetProperty("target").GetString();
            if (file is null)
            {
                await Task.Delay(200, deadline.Token);
            }
        }

        var saved = RecordingEvent(export)!.Value;
        var path = Path.Combine(rig.Appliance.DataDirectory, "recordings", file!);
        var bytes = await File.ReadAllBytesAsync(path, deadline.Token);
        var text = Encoding.Latin1.GetString(bytes);

        await admin.Page.GotoAsync($"/audit/session?id={saved.GetProperty("session").GetString()}");
        await admin.Page.ClickAsync(".replay-link");
        await admin.WaitForAsync("#replay-status[data-state=ready]", "#replay-status");
        var duration = int.Parse((await admin.Page.GetAttributeAsync("#replay-seek", "max"))!, System.Globalization.CultureInfo.InvariantCulture);
        await admin.Page.Locator("#replay-seek").FillAsync((duration - 3000).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var early = await WebViewerTests.CanvasPixelAsync(admin.Page, 40, 40, "c08020", deadline.Token);
        await admin.Page.Locator("#replay-seek").FillAsync(duration.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var late = await WebViewerTests.CanvasPixelAsync(admin.Page, 40, 40, "2060d0", deadline.Token);
        await admin.Page.Locator("#replay-seek").FillAsync("0");
        await admin.Page.SelectOptionAsync("#replay-speed", "8");
        await admin.Page.ClickAsync("#replay-play");
        await admin.WaitForAsync("#replay-status[data-state=ended]", "#replay-status");
        var played = await WebViewerTests.CanvasPixelAsync(admin.Page, 40, 40, "2060d0", deadline.Token);
        var foreign = admin.ForeignRequests;

        colour.Should().Be("c08020");
        changed.Should().Be("2060d0");
        duration.Should().BeGreaterThan(4000, "the colour changed 4 s after the first one was on screen");
        early.Should().Be("c08020", "3 s before the end, the screen still had its first colour");
        late.Should().Be("2060d0", "at the end it shows the colour painted later");
        played.Should().Be("2060d0");
        foreign.Should().BeEmpty();
        text.Should().StartWith("PSREC/1\n{\"session\":\"se-");
        text.Should().Contain("RFB 003.008\n", "the VNC server's greeting is recorded as it went to the viewer");
        saved.GetProperty("details").GetProperty("sha256").GetString().Should().Be(Convert.ToHexStringLower(SHA256.HashData(bytes)));
        saved.GetProperty("details").GetProperty("service").GetString().Should().Be("screen");
        long.Parse(saved.GetProperty("details").GetProperty("stream-bytes").GetString()!, System.Globalization.CultureInfo.InvariantCulture)
            .Should().BeLessThan(bytes.Length).And.BeGreaterThan(0);
        (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)).Should().Be(UnixFileMode.None);
        admin.Problems.Should().BeEmpty();
        tab.Problems.Should().BeEmpty();
    }

    private static JsonElement? RecordingEvent(string export)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(export));
        foreach (var audit in document.RootElement.GetProperty("events").EnumerateArray())
        {
            if (audit.GetProperty("action").GetString() == "recording.saved")
            {
                return audit.Clone();
            }
        }

        return null;
    }
}
