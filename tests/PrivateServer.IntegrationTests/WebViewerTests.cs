using Microsoft.Playwright;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>
/// The supporter console in a real browser (headless Chromium): a real host module shares a real
/// X screen (Xvfb + x11vnc); noVNC in the page reaches it over the relay. The test reads the
/// painted colour from the page's canvas and moves the real X pointer with a click.
/// </summary>
public sealed class WebViewerTests
{
    [Fact]
    public async Task Viewer_InControlMode_ShowsTheScreenAndAClickMovesThePointer_AndNotInViewMode()
    {
        using var deadline = TestDeadline.Start();
        await using var display = await XDisplay.StartAsync(deadline.Token);
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        var state = await rig.EnrollHostAsync("desktop", deadline.Token);
        var host = await rig.StartHostAsync(state, deadline.Token, "--service", $"screen=127.0.0.1:{display.VncPort}");
        await display.PaintAsync("#d02030", deadline.Token);
        await display.MovePointerAsync(10, 10, deadline.Token);
        await using var browser = await WebBrowser.StartAsync();
        await using var tab = await browser.NewSessionAsync(rig.Appliance);
        await tab.SignInAsync(SupportRig.Supporter, SupportRig.SupporterPassword);

        await (await tab.HostOnlineAsync("desktop")).GetByText("Connect").ClickAsync();
        await tab.WaitForAsync("#session-status[data-state=connected]", "#session-status");
        var colour = await CanvasPixelAsync(tab.Page, 100, 100, "d02030", deadline.Token);
        await ClickScreenAsync(tab.Page, 123, 45);
        var moved = await display.WaitForPointerAsync((123, 45), deadline.Token);

        await tab.Page.ClickAsync("#toggle-control");
        var mode = await tab.Page.GetAttributeAsync("#viewer", "data-mode");
        await ClickScreenAsync(tab.Page, 300, 200);
        await Task.Delay(1000, deadline.Token);
        var stayed = await display.PointerAsync(deadline.Token);

        await tab.Page.ClickAsync("#end-session");
        await tab.Page.Locator("#session-status[data-state=ended]").WaitForAsync();
        var ended = await host.WaitForStderrAsync("with alice ended: [^\n]*", deadline.Token);

        await using var admin = await browser.NewSessionAsync(rig.Appliance);
        await admin.SignInAsync("admin", rig.Appliance.AdminPassword);
        await admin.Page.GotoAsync("/audit?host=desktop");
        var listed = await admin.Page.Locator("#sessions tbody tr").AllInnerTextsAsync();
        await admin.Page.Locator("#sessions tbody tr a.button").First.ClickAsync();
        var granted = await admin.Page.TextContentAsync("#detail-granted");
        var endedBy = await admin.Page.TextContentAsync("#detail-ended-by");

        colour.Should().Be("d02030");
        moved.Should().Be((123, 45));
        listed.Should().ContainSingle().Which.Should().Contain("alice").And.Contain("desktop").And.Contain("held");
        granted.Should().Be("view, control, tunnel:screen");
        endedBy.Should().Be("the supporter");
        admin.Problems.Should().BeEmpty();
        mode.Should().Be("view");
        stayed.Should().Be((123, 45), "in view mode the viewer sends no pointer events");
        tab.ForeignRequests.Should().BeEmpty();
        tab.Problems.Should().BeEmpty();
        ended.Value.Should().Be("with alice ended: the supporter ended the session.");
    }

    [Fact]
    public async Task Viewer_ViewOnlySession_ShowsTheScreenButOffersNoControlAndTheHostDropsInput()
    {
        using var deadline = TestDeadline.Start();
        await using var display = await XDisplay.StartAsync(deadline.Token);
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        var state = await rig.EnrollHostAsync("desktop", deadline.Token);
        await rig.StartHostAsync(state, deadline.Token, "--service", $"screen=127.0.0.1:{display.VncPort}");
        await display.PaintAsync("#20c040", deadline.Token);
        await display.MovePointerAsync(10, 10, deadline.Token);
        await using var browser = await WebBrowser.StartAsync();
        await using var tab = await browser.NewSessionAsync(rig.Appliance);
        await tab.SignInAsync(SupportRig.Supporter, SupportRig.SupporterPassword);

        await (await tab.HostOnlineAsync("desktop")).GetByText("View only").ClickAsync();
        await tab.WaitForAsync("#session-status[data-state=connected]", "#session-status");
        var colour = await CanvasPixelAsync(tab.Page, 50, 60, "20c040", deadline.Token);
        var rights = await tab.Page.TextContentAsync("#session-rights");
        var toggleDisabled = await tab.Page.IsDisabledAsync("#toggle-control");
        // Even a page script that forces noVNC out of view-only mode gets nothing through: the host filters.
        await tab.Page.EvaluateAsync("() => document.querySelector('#screen canvas').dispatchEvent(new MouseEvent('mousedown', { clientX: 5, clientY: 5 }))");
        await ClickScreenAsync(tab.Page, 200, 150);
        await Task.Delay(1000, deadline.Token);
        var pointer = await display.PointerAsync(deadline.Token);

        colour.Should().Be("20c040");
        rights.Should().Contain("view").And.NotContain("control");
        toggleDisabled.Should().BeTrue();
        pointer.Should().Be((10, 10));
        tab.Problems.Should().BeEmpty();
    }

    /// <summary>The colour (rrggbb) of a framebuffer pixel in the viewer's canvas, read until it is the expected one or 10 s pass.</summary>
    internal static async Task<string> CanvasPixelAsync(IPage page, int x, int y, string expected, CancellationToken cancellationToken)
    {
        var colour = string.Empty;
        for (var i = 0; i < 50 && colour != expected; i++)
        {
            colour = await page.EvaluateAsync<string>(
                "([x, y]) => { const c = document.querySelector('#screen canvas'); if (!c || c.width < 2) return ''; " +
                "const d = c.getContext('2d').getImageData(x, y, 1, 1).data; return [d[0], d[1], d[2]].map(v => v.toString(16).padStart(2, '0')).join(''); }",
                new[] { x, y });
            if (colour != expected)
            {
                await Task.Delay(200, cancellationToken);
            }
        }

        return colour;
    }

    /// <summary>Clicks the viewer's canvas where the remote framebuffer pixel (x, y) is shown, whatever the scaling.</summary>
    internal static async Task ClickScreenAsync(IPage page, int x, int y)
    {
        var canvas = page.Locator("#screen canvas");
        var box = await canvas.BoundingBoxAsync() ?? throw new InvalidOperationException("the viewer shows no canvas");
        var width = await canvas.EvaluateAsync<int>("c => c.width");
        var height = await canvas.EvaluateAsync<int>("c => c.height");
        await page.Mouse.ClickAsync(box.X + ((x + 0.5f) * box.Width / width), box.Y + ((y + 0.5f) * box.Height / height));
    }
}
