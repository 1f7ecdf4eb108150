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
        var protocol = await admin.Page.Locator("#protocol td.action").AllInnerTextsAsync();

        colour.Should().Be("d02030");
        moved.Should().Be((123, 45));
        listed.Should().ContainSingle().Which.Should().Contain("alice").And.Contain("desktop").And.Contain("held");
        granted.Should().Be("view, control, tunnel:screen, chat", "the viewer asks for chat where the group allows it");
        endedBy.Should().Be("the supporter");
        protocol.Should().Equal("session.requested", "session.granted", "stream.opened", "session.ended");
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
        var toggleText = await tab.Page.TextContentAsync("#toggle-control");
        // Even a page script that forces noVNC out of view-only mode gets nothing through: the host filters.
        await tab.Page.EvaluateAsync("() => document.querySelector('#screen canvas').dispatchEvent(new MouseEvent('mousedown', { clientX: 5, clientY: 5 }))");
        await ClickScreenAsync(tab.Page, 200, 150);
        await Task.Delay(1000, deadline.Token);
        var pointer = await display.PointerAsync(deadline.Token);

        colour.Should().Be("20c040");
        rights.Should().Contain("view").And.NotContain("control");
        toggleText.Should().Be("Ask for control", "the session has no control; the button asks the host for it");
        pointer.Should().Be((10, 10));
        tab.Problems.Should().BeEmpty();
    }

    [Fact]
    public async Task Viewer_ViewOnlySession_AsksTheHostForControl_RefusedThenGranted_AndOnlyThenAClickMovesThePointer()
    {
        using var deadline = TestDeadline.Start();
        await using var display = await XDisplay.StartAsync(deadline.Token);
        await using var rig = await SupportRig.StartAsync(deadline.Token, consent: "ask");
        var state = await rig.EnrollHostAsync("desktop", deadline.Token);
        var host = await rig.StartHostAsync(state, deadline.Token, "--service", $"screen=127.0.0.1:{display.VncPort}");
        await display.PaintAsync("#2050e0", deadline.Token);
        await display.MovePointerAsync(10, 10, deadline.Token);
        await using var browser = await WebBrowser.StartAsync();
        await using var tab = await browser.NewSessionAsync(rig.Appliance);
        await tab.SignInAsync(SupportRig.Supporter, SupportRig.SupporterPassword);
        await (await tab.HostOnlineAsync("desktop")).GetByText("View only").ClickAsync();
        await host.WaitForStderrAsync(@"alice asks for a support session with: see your screen, reach the service 'screen', chat with you\. Allow\? \[y/N\]", deadline.Token);
        await host.WriteLineAsync("y", deadline.Token);
        await tab.WaitForAsync("#session-status[data-state=connected]", "#session-status");
        var offered = await tab.Page.TextContentAsync("#toggle-control");

        await tab.Page.ClickAsync("#toggle-control");
        var question = await host.WaitForStderrAsync(@"In session (se-[^,]+), alice also asks to: use your keyboard and mouse\. Allow\? \[y/N\]", deadline.Token);
        await host.WriteLineAsync("n", deadline.Token);
        await tab.WaitForAsync("#session-status[data-state=control-refused]", "#session-status");
        var refusal = await tab.Page.TextContentAsync("#session-status");
        await ClickScreenAsync(tab.Page, 200, 150);
        await Task.Delay(1000, deadline.Token);
        var unmoved = await display.PointerAsync(deadline.Token);

        await tab.Page.ClickAsync("#toggle-control");
        await host.WaitForStderrAsync(@"also asks to: use your keyboard and mouse\. Allow\? \[y/N\]", deadline.Token, skip: 1);
        await host.WriteLineAsync("y", deadline.Token);
        await tab.WaitForAsync("#session-status[data-state=connected]", "#session-status");
        var rights = await tab.Page.TextContentAsync("#session-rights");
        var colour = await CanvasPixelAsync(tab.Page, 100, 100, "2050e0", deadline.Token);
        await ClickScreenAsync(tab.Page, 150, 90);
        // A scaled canvas may put the click one framebuffer pixel off.
        var moved = await display.WaitForPointerAsync((150, 90), deadline.Token, tolerance: 1);
        await tab.Page.ClickAsync("#end-session");

        await using var admin = await browser.NewSessionAsync(rig.Appliance);
        await admin.SignInAsync("admin", rig.Appliance.AdminPassword);
        await admin.Page.GotoAsync($"/audit/session?id={question.Groups[1].Value}");
        var later = await admin.Page.Locator(".later-grant").AllInnerTextsAsync();

        offered.Should().Be("Ask for control");
        refusal.Should().Contain("Control not granted:").And.Contain("did not grant control");
        unmoved.Should().Be((10, 10), "the refused request changed nothing");
        rights.Should().Contain("control");
        colour.Should().Be("2050e0");
        moved.X.Should().BeCloseTo(150, 1);
        moved.Y.Should().BeCloseTo(90, 1);
        host.Stderr.Should().Contain($"Session {question.Groups[1].Value}: alice now also may: use your keyboard and mouse.");
        later.Should().ContainSingle().Which.Should().StartWith("control").And.Contain("given by the host's user");
        tab.Problems.Should().BeEmpty();
        admin.Problems.Should().BeEmpty();
    }

    [Fact]
    public async Task Viewer_WithControl_ShowsWhatTheHostsUserCopies_AndSendsTextToTheHostsClipboard()
    {
        using var deadline = TestDeadline.Start();
        await using var display = await XDisplay.StartAsync(deadline.Token);
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        var state = await rig.EnrollHostAsync("clipboard-pc", deadline.Token);
        await rig.StartHostAsync(state, deadline.Token, "--service", $"screen=127.0.0.1:{display.VncPort}");
        await using var browser = await WebBrowser.StartAsync();
        await using var tab = await browser.NewSessionAsync(rig.Appliance);
        await tab.SignInAsync(SupportRig.Supporter, SupportRig.SupporterPassword);

        await (await tab.HostOnlineAsync("clipboard-pc")).GetByText("Connect").ClickAsync();
        await tab.WaitForAsync("#session-status[data-state=connected]", "#session-status");
        await display.CopyAsync("printer queue PRN-3 is stuck", deadline.Token);
        await tab.Page.WaitForFunctionAsync("() => document.getElementById('clip-text').value === 'printer queue PRN-3 is stuck'");
        var told = await tab.Page.TextContentAsync("#session-rights");

        await tab.Page.FillAsync("#clip-text", "net stop spooler");
        await tab.Page.ClickAsync("#clip-send");
        var onHost = await display.WaitForCutBufferAsync("net stop spooler", deadline.Token);
        var sent = await tab.Page.TextContentAsync("#session-rights");
        await tab.Page.ClickAsync("#files-open");
        await tab.Page.Locator("#files-status[data-state=error]").WaitForAsync();
        var noFiles = await tab.Page.TextContentAsync("#files-status");

        told.Should().Be("Text copied on the host is in the clipboard field.");
        noFiles.Should().StartWith("No file transfer:", "this host shares no folder").And.Contain("shares no folder for file transfer (its module runs without --files)");
        onHost.Should().Be("net stop spooler");
        sent.Should().Be("Text sent to the host's clipboard.");
        tab.ForeignRequests.Should().BeEmpty();
        tab.Problems.Should().BeEmpty();
    }

    [Fact]
    public async Task Viewer_FilePanel_ListsTheSharedFolder_SendsAndFetchesFilesChecked_AndAuditsThem()
    {
        using var deadline = TestDeadline.Start();
        await using var display = await XDisplay.StartAsync(deadline.Token);
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        var shared = Directory.CreateDirectory(Path.Combine(rig.Root, "shared")).FullName;
        await File.WriteAllTextAsync(Path.Combine(shared, "report.txt"), "quarterly numbers\n", deadline.Token);
        Directory.CreateDirectory(Path.Combine(shared, "logs"));
        await File.WriteAllTextAsync(Path.Combine(shared, "logs", "app.log"), "started\n", deadline.Token);
        var state = await rig.EnrollHostAsync("files-pc", deadline.Token);
        await rig.StartHostAsync(state, deadline.Token, "--service", $"screen=127.0.0.1:{display.VncPort}", "--files", shared);
        var upload = Path.Combine(rig.Root, "upload.bin");
        var content = System.Security.Cryptography.RandomNumberGenerator.GetBytes((3 * 1024 * 1024) + 5);
        await File.WriteAllBytesAsync(upload, content, deadline.Token);
        await using var browser = await WebBrowser.StartAsync();
        await using var tab = await browser.NewSessionAsync(rig.Appliance);
        await tab.SignInAsync(SupportRig.Supporter, SupportRig.SupporterPassword);

        await (await tab.HostOnlineAsync("files-pc")).GetByText("Connect").ClickAsync();
        await tab.WaitForAsync("#session-status[data-state=connected]", "#session-status");
        await tab.Page.ClickAsync("#files-open");
        await tab.Page.Locator("#files-list button.file-download[data-name='report.txt']").WaitForAsync();
        var top = await tab.Page.Locator("#files-list tbody tr").AllInnerTextsAsync();
        await tab.Page.ClickAsync("#files-list button.folder:text-is('logs/')");
        await tab.Page.Locator("#files-list button.file-download[data-name='app.log']").WaitForAsync();
        var path = await tab.Page.TextContentAsync("#files-path");
        await tab.Page.ClickAsync("#files-list button.folder:text-is('..')");
        await tab.Page.Locator("#files-list button.file-download[data-name='report.txt']").WaitForAsync();

        await tab.Page.SetInputFilesAsync("#files-pick", upload);
        await tab.Page.Locator("#files-status[data-state=done]").WaitForAsync();
        var sent = await tab.Page.TextContentAsync("#files-status");
        await tab.Page.Locator("#files-list button.file-download[data-name='upload.bin']").WaitForAsync();
        var fetched = await tab.Page.RunAndWaitForDownloadAsync(() => tab.Page.ClickAsync("#files-list button.file-download[data-name='report.txt']"));
        var saved = Path.Combine(rig.Root, "fetched.txt");
        await fetched.SaveAsAsync(saved);
        await tab.Page.Locator("#files-status[data-state=done]:has-text('report.txt')").WaitForAsync();
        var audit = Path.Combine(rig.Root, "audit.json");
        await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "audit", "export", "--format", "json", "--out", audit));
        var events = await File.ReadAllTextAsync(audit, deadline.Token);

        top.Should().HaveCount(2).And.Contain(r => r.StartsWith("logs/", StringComparison.Ordinal)).And.Contain(r => r.StartsWith("report.txt\t18 B", StringComparison.Ordinal));
        path.Should().Be("/logs");
        sent.Should().Be("Sent, SHA-256 checked on the host: upload.bin (3.0 MiB)");
        (await File.ReadAllBytesAsync(Path.Combine(shared, "upload.bin"), deadline.Token)).Should().Equal(content);
        fetched.SuggestedFilename.Should().Be("report.txt");
        (await File.ReadAllTextAsync(saved, deadline.Token)).Should().Be("quarterly numbers\n");
        events.Should().Contain("file.transferred").And.Contain("upload.bin").And.Contain("report.txt");
        tab.ForeignRequests.Should().BeEmpty();
        tab.Problems.Should().BeEmpty();
    }

    [Fact]
    public async Task Viewer_SystemInformationPanel_AsksTheHostAndShowsThisMachinesFacts()
    {
        using var deadline = TestDeadline.Start();
        await using var display = await XDisplay.StartAsync(deadline.Token);
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        var state = await rig.EnrollHostAsync("info-pc", deadline.Token);
        var host = await rig.StartHostAsync(state, deadline.Token, "--service", $"screen=127.0.0.1:{display.VncPort}");
        await using var browser = await WebBrowser.StartAsync();
        await using var tab = await browser.NewSessionAsync(rig.Appliance);
        await tab.SignInAsync(SupportRig.Supporter, SupportRig.SupporterPassword);

        await (await tab.HostOnlineAsync("info-pc")).GetByText("Connect").ClickAsync();
        await tab.WaitForAsync("#session-status[data-state=connected]", "#session-status");
        await tab.Page.ClickAsync("#sysinfo-open");
        await tab.Page.Locator("#sysinfo-status[data-state=done], #sysinfo-status[data-state=error]").WaitForAsync(new() { Timeout = 60_000 });
        (await tab.Page.GetAttributeAsync("#sysinfo-status", "data-state")).Should().Be("done", await tab.Page.TextContentAsync("#sysinfo-status"));
        var computer = await tab.Page.TextContentAsync("dd[data-fact=SysinfoComputer]");
        var memory = await tab.Page.TextContentAsync("dd[data-fact=SysinfoMemory]");
        var sections = await tab.Page.Locator("#sysinfo-report summary").AllInnerTextsAsync();
        await host.WaitForStderrAsync("The supporter read this computer's system information", deadline.Token);

        computer.Should().Be(Environment.MachineName);
        memory.Should().MatchRegex(@"^[0-9.]+ (MiB|GiB) / [0-9.]+ (MiB|GiB) free$");
        sections.Should().HaveCount(4).And.Contain(s => s.StartsWith("Disks (", StringComparison.Ordinal) && !s.StartsWith("Disks (0)", StringComparison.Ordinal));
        tab.ForeignRequests.Should().BeEmpty();
        tab.Problems.Should().BeEmpty();
    }

    [Fact]
    public async Task Viewer_ChatPanel_TalksWithTheHostsUser_AndLinksGoThroughTheWarningPage()
    {
        using var deadline = TestDeadline.Start();
        await using var display = await XDisplay.StartAsync(deadline.Token);
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        var state = await rig.EnrollHostAsync("chatty", deadline.Token);
        var host = await rig.StartHostAsync(state, deadline.Token, "--service", $"screen=127.0.0.1:{display.VncPort}");
        await using var browser = await WebBrowser.StartAsync();
        await using var tab = await browser.NewSessionAsync(rig.Appliance);
        await tab.SignInAsync(SupportRig.Supporter, SupportRig.SupporterPassword);

        await (await tab.HostOnlineAsync("chatty")).GetByText("Connect").ClickAsync();
        await tab.WaitForAsync("#session-status[data-state=connected]", "#session-status");
        await tab.Page.Locator("#chat").WaitForAsync();
        await tab.Page.FillAsync("#chat-text", "Hello from the browser");
        await tab.Page.PressAsync("#chat-text", "Enter");
        await host.WaitForStderrAsync($"{SupportRig.Supporter}: Hello from the browser", deadline.Token);
        await host.WriteLineAsync("Please read https://example.com/fix?a=1 <b>now</b>", deadline.Token);
        var line = tab.Page.Locator("#chat-log li", new() { HasText = "chatty" });
        await line.WaitForAsync();
        var shown = await line.InnerTextAsync();
        var href = await line.Locator("a").GetAttributeAsync("href");
        var bold = await line.Locator("b").CountAsync();
        var rightsText = await tab.Page.TextContentAsync("#session-rights");

        shown.Should().EndWith("chatty: Please read https://example.com/fix?a=1 <b>now</b>", "text is shown as text, never as HTML");
        bold.Should().Be(0);
        href.Should().Be("/leave?to=https%3A%2F%2Fexample.com%2Ffix%3Fa%3D1");
        (await tab.Page.Locator("#chat-log li").First.InnerTextAsync()).Should().EndWith("You: Hello from the browser");
        rightsText.Should().EndWith("view, control, tunnel:screen, chat");
        tab.ForeignRequests.Should().BeEmpty();
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
                // Read through a 1×1 copy: reading noVNC's own canvas again and again makes Chromium warn in the console.
                "const o = document.createElement('canvas'); o.width = 1; o.height = 1; const g = o.getContext('2d', { willReadFrequently: true }); " +
                "g.drawImage(c, x, y, 1, 1, 0, 0, 1, 1); const d = g.getImageData(0, 0, 1, 1).data; " +
                "return [d[0], d[1], d[2]].map(v => v.toString(16).padStart(2, '0')).join(''); }",
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
        await page.Mouse.ClickAsync(Inside(box.X, box.Width / width, x), Inside(box.Y, box.Height / height, y));
    }

    /// <summary>
    /// A whole CSS pixel inside framebuffer pixel <paramref name="index"/> of a canvas that starts at
    /// <paramref name="start"/> and is scaled by <paramref name="scale"/>: the browser hands the page whole
    /// coordinates, so a fractional aim can land on the neighbouring pixel.
    /// </summary>
    private static float Inside(float start, float scale, int index)
    {
        var low = start + (index * scale);
        var whole = MathF.Ceiling(low + 0.01f);
        return whole < start + ((index + 1) * scale) ? whole : low + (scale / 2);
    }
}
