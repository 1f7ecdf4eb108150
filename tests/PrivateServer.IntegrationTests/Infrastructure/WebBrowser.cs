using System.Collections.Concurrent;
using Microsoft.Playwright;

namespace PrivateServer.IntegrationTests.Infrastructure;

/// <summary>
/// Headless Debian Chromium driven by Playwright (its own browser download is never used). Every
/// page records each request it makes, console errors (CSP violations among them) and script
/// errors, so a test can prove a page stayed on the appliance's origin and ran cleanly.
/// </summary>
public sealed class WebBrowser : IAsyncDisposable
{
    private static readonly string[] Flags =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--disable-extensions", "--metrics-recording-only",
    ];

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private WebBrowser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        _browser = browser;
    }

    public static async Task<WebBrowser> StartAsync()
    {
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = "/usr/bin/chromium",
                Headless = true,
                Args = Flags,
            });
            return new WebBrowser(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A fresh browser profile (no cookies) for one person, in the given language.</summary>
    public async Task<WebSession> NewSessionAsync(ApplianceProcess appliance, string language = "en")
    {
        ArgumentNullException.ThrowIfNull(appliance);
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = appliance.BaseAddress.ToString().TrimEnd('/'),
            // The appliance's own CA is not in Chromium's store; the CA chain itself is tested with curl and .NET.
            IgnoreHTTPSErrors = true,
            Locale = language,
            ExtraHTTPHeaders = new Dictionary<string, string> { ["Accept-Language"] = language },
            ViewportSize = new ViewportSize { Width = 1280, Height = 1000 },
        });
        var page = await context.NewPageAsync();
        return new WebSession(context, page, appliance.BaseAddress);
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}

/// <summary>One person's browser tab, with what it requested and what went wrong in it.</summary>
public sealed class WebSession : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly ConcurrentQueue<string> _problems = new();

    internal WebSession(IBrowserContext context, IPage page, Uri origin)
    {
        _context = context;
        Page = page;
        Origin = origin;
        page.SetDefaultTimeout(20_000);
        page.Request += (_, request) => _requests.Enqueue(request.Url);
        page.WebSocket += (_, socket) => _requests.Enqueue(socket.Url);
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning" && !message.Text.Contains("[DEPRECATION]", StringComparison.Ordinal))
            {
                _problems.Enqueue($"console {message.Type}: {message.Text}");
            }
        };
        page.PageError += (_, error) => _problems.Enqueue("script error: " + error);
    }

    public IPage Page { get; }

    public Uri Origin { get; }

    /// <summary>Every URL the page asked for, in order (documents, scripts, images, fetches, WebSockets).</summary>
    public IReadOnlyList<string> Requests => [.. _requests];

    /// <summary>Console errors and warnings (CSP violations are console errors) and uncaught script errors.</summary>
    public IReadOnlyList<string> Problems => [.. _problems];

    /// <summary>Requests that left the appliance's origin (scheme, host and port).</summary>
    public IReadOnlyList<string> ForeignRequests =>
        Requests.Where(url => !Uri.TryCreate(url, UriKind.Absolute, out var uri)
            || !(uri.Scheme is "https" or "wss" or "data" or "blob")
            || (uri.Scheme is "https" or "wss" && (uri.Host != Origin.Host || uri.Port != Origin.Port))).ToList();

    public async Task SignInAsync(string user, string password)
    {
        await Page.GotoAsync("/login");
        await Page.FillAsync("#UserName", user);
        await Page.FillAsync("#Password", password);
        await Page.ClickAsync("button[type=submit].primary");
        try
        {
            // Signed in = the page shows the sign-out button (every page after sign-in has it, the sign-in pages do not).
            // A DOM wait, not a wait for the URL: under load the redirect's navigation could commit before a URL wait
            // was listening, and the page then showed the overview while the wait ran out.
            await Page.Locator("#sign-out").WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
        }
        catch (TimeoutException ex)
        {
            // Say what the page showed: a refused password reads differently from a server that did not answer.
            var shown = await Page.Locator("main").InnerTextAsync(new LocatorInnerTextOptions { Timeout = 5_000 });
            throw new TimeoutException($"signing in as {user} showed no signed-in page within 60 s; the page shows: {shown}; problems: {string.Join(" | ", Problems)}", ex);
        }
    }

    /// <summary>Opens the supporter console and waits until the host's row shows it online; returns the row.</summary>
    public async Task<ILocator> HostOnlineAsync(string host)
    {
        await Page.GotoAsync("/console");
        var row = Page.Locator("#host-rows tr", new PageLocatorOptions { HasText = host });
        await row.Locator(".badge.on").WaitForAsync();
        return row;
    }

    /// <summary>
    /// Waits until the page's address ends with <paramref name="path"/> (or, with <paramref name="leaves"/>, no longer
    /// contains it). Polls the address instead of Playwright's URL wait, which could miss a navigation that committed
    /// before it listened and then time out on a page already there (seen under CI load).
    /// </summary>
    public async Task WaitForPathAsync(string path, bool leaves = false)
    {
        var until = DateTime.UtcNow.AddSeconds(60);
        bool Reached() => leaves ? !Page.Url.Contains(path, StringComparison.Ordinal) : new Uri(Page.Url).AbsolutePath.EndsWith(path, StringComparison.Ordinal);
        while (!Reached())
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"the page stayed on {Page.Url} for 60 s, waiting to {(leaves ? "leave" : "reach")} {path}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Waits for an element; on timeout the failure names what the page showed and what went wrong in it.</summary>
    public async Task WaitForAsync(string selector, string? about = null)
    {
        try
        {
            await Page.Locator(selector).WaitForAsync();
        }
        catch (TimeoutException ex)
        {
            var shown = about is null ? string.Empty : await Page.Locator(about).TextContentAsync(new LocatorTextContentOptions { Timeout = 1000 });
            throw new TimeoutException($"{selector} did not appear on {Page.Url}; {about}: '{shown}'; problems: {string.Join(" | ", Problems)}", ex);
        }
    }

    /// <summary>
    /// Sends an admin form with its button and returns the confirmation the answer shows (<c>#admin-done</c>); waits for
    /// the new page (not the one the button was on, which may still show an earlier confirmation). When the page
    /// refused instead, or showed neither, the failure says what it showed.
    /// </summary>
    public async Task<string> SubmitAsync(string button) => await OutcomeAsync(button, "#admin-done", "#admin-error");

    /// <summary>Sends an admin form that must be refused and returns the refusal (<c>#admin-error</c>).</summary>
    public async Task<string> SubmitRefusedAsync(string button) => await OutcomeAsync(button, "#admin-error", "#admin-done");

    private async Task<string> OutcomeAsync(string button, string expected, string other)
    {
        // Mark the page the button is on; the answer is a new document without the mark.
        await Page.EvaluateAsync("() => { window.privateServerTestBefore = true; }");
        await Page.ClickAsync(button);
        await Page.WaitForFunctionAsync(
            "() => !window.privateServerTestBefore && document.readyState !== 'loading'", null, new PageWaitForFunctionOptions { Timeout = 60_000 });
        if (await Page.Locator(expected).CountAsync() > 0)
        {
            return await Page.Locator(expected).TextContentAsync() ?? string.Empty;
        }

        var shown = await Page.Locator(other).CountAsync() > 0
            ? await Page.Locator(other).TextContentAsync()
            : await Page.Locator("body").InnerTextAsync();
        throw new InvalidOperationException($"after {button} on {Page.Url} the page shows no {expected} but: {shown}; problems: {string.Join(" | ", Problems)}");
    }

    public async ValueTask DisposeAsync() => await _context.DisposeAsync();
}
