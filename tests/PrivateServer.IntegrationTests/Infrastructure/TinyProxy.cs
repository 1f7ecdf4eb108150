using System.Globalization;
using System.Net.Sockets;

namespace PrivateServer.IntegrationTests.Infrastructure;

/// <summary>
/// A real HTTP CONNECT proxy for one test: tinyproxy in the foreground on a free 127.0.0.1 port, with
/// a private config, log and pid file in a temp folder. Without a ConnectPort line tinyproxy lets
/// CONNECT reach any port. Disposing stops it and removes the folder.
/// </summary>
public sealed class TinyProxy : IAsyncDisposable
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    private readonly string _folder;
    private ChildProcess? _process;

    private TinyProxy(string folder)
    {
        _folder = folder;
    }

    public int Port { get; private set; }

    /// <summary>"http://127.0.0.1:P", as a proxy setting wants it.</summary>
    public string Url => "http://127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    public string LogFile => Path.Combine(_folder, "tinyproxy.log");

    /// <summary>The log so far: one "Request (file descriptor N): CONNECT host:port HTTP/1.1" line per tunnel.</summary>
    public string Log
    {
        get
        {
            if (!File.Exists(LogFile))
            {
                return "";
            }

            using var stream = new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
    }

    public static async Task<TinyProxy> StartAsync(CancellationToken cancellationToken)
    {
        var proxy = new TinyProxy(Directory.CreateTempSubdirectory("ps-tinyproxy-").FullName);
        try
        {
            await proxy.RunAsync(cancellationToken);
            return proxy;
        }
        catch
        {
            await proxy.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Idempotent: the process is forgotten once stopped and the folder once deleted.
        if (_process is not null)
        {
            await _process.StopAsync(StopGrace);
            _process = null;
        }

        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    /// <summary>Starts tinyproxy on a free port (retrying if another process takes the port first) and waits until it accepts.</summary>
    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        for (var attempt = 0; attempt < 5; attempt++)
        {
            Port = FreePort.Next();
            var config = Path.Combine(_folder, "tinyproxy.conf");
            await File.WriteAllTextAsync(config, Config(), cancellationToken);
            var process = ChildProcess.Start("tinyproxy", ["-d", "-c", config]);
            try
            {
                if (await WaitUntilListeningAsync(process, cancellationToken))
                {
                    _process = process;
                    return;
                }
            }
            catch
            {
                await process.StopAsync(StopGrace);
                throw;
            }

            await process.StopAsync(StopGrace);
            failures.Add($"port {Port.ToString(CultureInfo.InvariantCulture)}: {process.Stderr.Trim()} {Log.Trim()}");
        }

        throw new InvalidOperationException("tinyproxy did not start:\n" + string.Join('\n', failures));
    }

    private string Config() => string.Join(
        '\n',
        "Port " + Port.ToString(CultureInfo.InvariantCulture),
        "Listen 127.0.0.1",
        "Allow 127.0.0.1",
        "Timeout 600",
        "MaxClients 100",
        "LogLevel Info",
        $"LogFile \"{LogFile}\"",
        $"PidFile \"{Path.Combine(_folder, "tinyproxy.pid")}\"",
        "");

    private async Task<bool> WaitUntilListeningAsync(ChildProcess process, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                return false;
            }

            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync("127.0.0.1", Port, cancellationToken);
                return true;
            }
            catch (SocketException)
            {
                // Not listening yet.
            }

            await Task.Delay(50, cancellationToken);
        }
    }
}
