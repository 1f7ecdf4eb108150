using System.Globalization;
using System.Net.Sockets;

namespace PrivateServer.IntegrationTests.Infrastructure;

/// <summary>
/// A real desktop for one test: Xvfb on a free display number and x11vnc sharing it on a free
/// 127.0.0.1 port (RFB 3.8, no password). Disposing stops both.
/// </summary>
public sealed class XDisplay : IAsyncDisposable
{
    /// <summary>The screen's width in pixels (depth 24).</summary>
    public const int Width = 640;

    /// <summary>The screen's height in pixels (depth 24).</summary>
    public const int Height = 480;

    private const int Attempts = 20;
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    private readonly ChildProcess _xvfb;
    private readonly int _number;
    private ChildProcess? _vnc;
    private bool _xvfbAnswered;
    private bool _disposed;

    private XDisplay(ChildProcess xvfb, int number)
    {
        _xvfb = xvfb;
        _number = number;
    }

    /// <summary>":N", as DISPLAY wants it.</summary>
    public string Display => DisplayOf(_number);

    /// <summary>The 127.0.0.1 port where x11vnc speaks RFB.</summary>
    public int VncPort { get; private set; }

    private string LockFile => LockFileOf(_number);

    private string SocketFile => SocketFileOf(_number);

    public static async Task<XDisplay> StartAsync(CancellationToken cancellationToken)
    {
        var display = await StartXvfbAsync(cancellationToken);
        try
        {
            await display.StartVncAsync(cancellationToken);
            return display;
        }
        catch
        {
            await display.DisposeAsync();
            throw;
        }
    }

    /// <summary>Paints the root window one colour (an X colour name or "#rrggbb").</summary>
    public Task PaintAsync(string colour, CancellationToken cancellationToken) =>
        RunXClientAsync("xsetroot", ["-solid", colour], cancellationToken);

    /// <summary>Where the X pointer is now.</summary>
    public async Task<(int X, int Y)> PointerAsync(CancellationToken cancellationToken)
    {
        var output = await RunXClientAsync("xdotool", ["getmouselocation", "--shell"], cancellationToken);
        int? x = null, y = null;
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith("X=", StringComparison.Ordinal))
            {
                x = int.Parse(line.AsSpan(2), NumberStyles.Integer, CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("Y=", StringComparison.Ordinal))
            {
                y = int.Parse(line.AsSpan(2), NumberStyles.Integer, CultureInfo.InvariantCulture);
            }
        }

        return x is { } px && y is { } py ? (px, py) : throw new InvalidOperationException("xdotool printed no pointer location: " + output);
    }

    /// <summary>Where the X pointer is once it is within <paramref name="tolerance"/> pixels of <paramref name="expected"/>, or after 5 s.</summary>
    public async Task<(int X, int Y)> WaitForPointerAsync((int X, int Y) expected, CancellationToken cancellationToken, int tolerance = 0)
    {
        bool Near((int X, int Y) p) => Math.Abs(p.X - expected.X) <= tolerance && Math.Abs(p.Y - expected.Y) <= tolerance;
        var pointer = await PointerAsync(cancellationToken);
        for (var i = 0; i < 50 && !Near(pointer); i++)
        {
            await Task.Delay(100, cancellationToken);
            pointer = await PointerAsync(cancellationToken);
        }

        return pointer;
    }

    /// <summary>
    /// Copies <paramref name="text"/> on the host as an X client does through the cut buffer (CUT_BUFFER0 on the root
    /// window): x11vnc watches it and sends it to its viewers as ServerCutText. Plain ASCII without quotes only.
    /// </summary>
    public Task CopyAsync(string text, CancellationToken cancellationToken) =>
        RunXClientAsync("xprop", ["-root", "-f", "CUT_BUFFER0", "8s", "-set", "CUT_BUFFER0", text], cancellationToken);

    /// <summary>The X cut buffer (where x11vnc puts the text a viewer sends, besides claiming PRIMARY); empty when unset.</summary>
    public async Task<string> CutBufferAsync(CancellationToken cancellationToken)
    {
        var output = await RunXClientAsync("xprop", ["-root", "CUT_BUFFER0"], cancellationToken);
        var match = System.Text.RegularExpressions.Regex.Match(output, "^CUT_BUFFER0\\(STRING\\) = \"(.*)\"$", System.Text.RegularExpressions.RegexOptions.Multiline);
        return match.Success ? match.Groups[1].Value : string.Empty;
    }

    /// <summary>Reads the cut buffer until it holds <paramref name="expected"/> (x11vnc sets it from its own loop) or 10 s pass.</summary>
    public async Task<string> WaitForCutBufferAsync(string expected, CancellationToken cancellationToken)
    {
        var text = await CutBufferAsync(cancellationToken);
        for (var i = 0; i < 50 && text != expected; i++)
        {
            await Task.Delay(200, cancellationToken);
            text = await CutBufferAsync(cancellationToken);
        }

        return text;
    }

    public Task MovePointerAsync(int x, int y, CancellationToken cancellationToken) =>
        RunXClientAsync(
            "xdotool",
            ["mousemove", x.ToString(CultureInfo.InvariantCulture), y.ToString(CultureInfo.InvariantCulture)],
            cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_vnc is not null)
        {
            await _vnc.StopAsync(StopGrace);
            _vnc = null;
        }

        var xvfbPid = _xvfb.Id;
        await _xvfb.StopAsync(StopGrace);

        // Xvfb removes its lock and socket on SIGTERM; if it had to be killed, remove the ones it made
        // (the lock names it; the socket was its own only if it answered on it).
        if (LockFilePid(LockFile) == xvfbPid)
        {
            if (_xvfbAnswered)
            {
                File.Delete(SocketFile);
            }

            File.Delete(LockFile);
        }
    }

    /// <summary>Starts Xvfb on a display number nobody uses; another test may take the same number at the same time, so retry.</summary>
    private static async Task<XDisplay> StartXvfbAsync(CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var number = Random.Shared.Next(100, 10_000);
            if (File.Exists(LockFileOf(number)) || File.Exists(SocketFileOf(number)))
            {
                failures.Add($"{DisplayOf(number)}: in use");
                continue;
            }

            // -noreset: without it Xvfb resets when its last client leaves, and the painted colour is gone.
            var xvfb = ChildProcess.Start(
                "Xvfb",
                [DisplayOf(number), "-screen", "0", string.Create(CultureInfo.InvariantCulture, $"{Width}x{Height}x24"), "-noreset", "-nolisten", "tcp"]);
            var display = new XDisplay(xvfb, number);
            try
            {
                if (await display.WaitUntilXvfbAnswersAsync(cancellationToken))
                {
                    return display;
                }
            }
            catch
            {
                await display.DisposeAsync();
                throw;
            }

            await display.DisposeAsync();
            failures.Add($"{display.Display}: {xvfb.Stderr.Trim()}");
        }

        throw new InvalidOperationException($"Xvfb did not start in {Attempts} attempts:\n" + string.Join('\n', failures));
    }

    /// <summary>True once this Xvfb holds the display and a client gets an answer; false if it exited (display taken).</summary>
    private async Task<bool> WaitUntilXvfbAnswersAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_xvfb.HasExited)
            {
                return false;
            }

            // The lock names the server that won the display; the socket exists once it listens.
            if (LockFilePid(LockFile) == _xvfb.Id && File.Exists(SocketFile))
            {
                await using var probe = ChildProcess.Start("xdotool", ["getmouselocation"], Environment());
                var result = await probe.WaitForExitAsync(cancellationToken);
                if (result.ExitCode == 0)
                {
                    _xvfbAnswered = true;
                    return true;
                }
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>Starts x11vnc on a free port (retrying if another process takes the port first) and waits for its "RFB " greeting.</summary>
    private async Task StartVncAsync(CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var port = FreePort.Next();

            // -nocursor: a client without cursor-shape encodings (ours asks for Raw only) otherwise gets
            // the pointer drawn into the framebuffer, white pixels where the pointer is. -nonap: x11vnc
            // otherwise naps between screen polls when idle and a repaint shows up to seconds late
            // (about 15 ms without naps). -noxdamage: poll the screen rather than trust XDAMAGE hints.
            // -noipv6 with -localhost: 127.0.0.1 only.
            var vnc = ChildProcess.Start(
                "x11vnc",
                [
                    "-display", Display, "-localhost", "-noipv6", "-rfbport", port.ToString(CultureInfo.InvariantCulture),
                    "-nopw", "-forever", "-shared", "-noxdamage", "-nonap", "-nocursor", "-quiet",
                ],
                Environment());
            try
            {
                if (await WaitUntilVncGreetsAsync(vnc, port, cancellationToken))
                {
                    _vnc = vnc;
                    VncPort = port;
                    return;
                }
            }
            catch
            {
                await vnc.StopAsync(StopGrace);
                throw;
            }

            await vnc.StopAsync(StopGrace);
            failures.Add($"port {port.ToString(CultureInfo.InvariantCulture)}: {vnc.Stderr.Trim()}");
        }

        throw new InvalidOperationException("x11vnc did not start:\n" + string.Join('\n', failures));
    }

    private static async Task<bool> WaitUntilVncGreetsAsync(ChildProcess vnc, int port, CancellationToken cancellationToken)
    {
        var listening = "PORT=" + port.ToString(CultureInfo.InvariantCulture);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (vnc.HasExited)
            {
                return false;
            }

            // x11vnc prints PORT=P once it listens; the greeting proves it is the one answering there.
            if (vnc.Stdout.Contains(listening, StringComparison.Ordinal) && await GreetsWithRfbAsync(port, cancellationToken))
            {
                return true;
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    private static async Task<bool> GreetsWithRfbAsync(int port, CancellationToken cancellationToken)
    {
        using var greeting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        greeting.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync("127.0.0.1", port, greeting.Token);
            var banner = new byte[4];
            await tcp.GetStream().ReadExactlyAsync(banner, greeting.Token);
            return banner.AsSpan().SequenceEqual("RFB "u8);
        }
        catch (Exception e) when (e is SocketException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    private async Task<string> RunXClientAsync(string file, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        await using var child = ChildProcess.Start(file, arguments, Environment());
        var result = await child.WaitForExitAsync(cancellationToken);
        return result.ExitCode == 0
            ? result.Stdout
            : throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} on {Display} exited with {result.ExitCode}: {result.Stderr}");
    }

    private Dictionary<string, string> Environment() => new() { ["DISPLAY"] = Display };


    private static string DisplayOf(int number) => ":" + number.ToString(CultureInfo.InvariantCulture);

    private static string LockFileOf(int number) => $"/tmp/.X{number.ToString(CultureInfo.InvariantCulture)}-lock";

    private static string SocketFileOf(int number) => $"/tmp/.X11-unix/X{number.ToString(CultureInfo.InvariantCulture)}";

    private static int? LockFilePid(string lockFile)
    {
        try
        {
            return int.TryParse(File.ReadAllText(lockFile).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
