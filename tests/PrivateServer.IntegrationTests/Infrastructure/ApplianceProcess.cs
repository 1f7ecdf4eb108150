using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace PrivateServer.IntegrationTests.Infrastructure;

/// <summary>
/// One real appliance for one test: <c>privateserver init</c> in a temp data folder of its own,
/// then <c>privateserver run</c> on a free 127.0.0.1 port. Disposing stops it and removes the folder.
/// </summary>
public sealed class ApplianceProcess : IAsyncDisposable
{
    private ChildProcess? _server;

    private ApplianceProcess(string dataDirectory, string adminPassword, X509Certificate2 ca)
    {
        DataDirectory = dataDirectory;
        AdminPassword = adminPassword;
        Ca = ca;
    }

    public string DataDirectory { get; }

    /// <summary>What <c>init</c> printed on standard output.</summary>
    public string AdminPassword { get; }

    /// <summary>The appliance CA as <c>ca export</c> wrote it.</summary>
    public X509Certificate2 Ca { get; }

    /// <summary>The root the certificate browsers get chains to: the appliance CA, unless a test imported a company certificate (the test owns it).</summary>
    public X509Certificate2? BrowserRoot { get; set; }

    public int Port { get; private set; }

    public Uri BaseAddress => new($"https://localhost:{Port}/");

    public ChildProcess Server => _server ?? throw new InvalidOperationException("The appliance is not running.");

    /// <summary>Extra settings (<c>PRIVATESERVER__Section__Key</c>) for the next <see cref="RunAsync"/>.</summary>
    public IDictionary<string, string>? Settings { get; set; }

    /// <summary>
    /// <c>Auth:TwoFactorRequiredFor</c> for the next run. The product requires a second factor of admins; tests that are
    /// not about two-factor sign-in sign the admin in with the password, so they say "none" explicitly. Null keeps the
    /// product's default (TwoFactorTests checks it).
    /// </summary>
    public string? TwoFactorRequiredFor { get; set; } = "none";

    /// <summary>Initialises a new data folder and starts the server on it, with extra settings (<c>PRIVATESERVER__Section__Key</c>) if given.</summary>
    public static async Task<ApplianceProcess> StartAsync(CancellationToken cancellationToken, IDictionary<string, string>? environment = null)
    {
        var appliance = await InitialiseAsync(cancellationToken);
        appliance.Settings = environment;
        await appliance.RunAsync(cancellationToken);
        return appliance;
    }

    /// <summary>Initialises a new data folder without starting the server.</summary>
    public static async Task<ApplianceProcess> InitialiseAsync(CancellationToken cancellationToken)
    {
        var data = Path.Combine(Path.GetTempPath(), "ps-it-" + Guid.NewGuid().ToString("N")[..12]);
        var init = await ChildProcess.RunAsync(Programs.Appliance, ["init", "--data", data, "--hostname", "rs.example.internal"], cancellationToken);
        if (init.ExitCode != 0)
        {
            throw new InvalidOperationException("privateserver init failed: " + init.Stderr);
        }

        var caPem = data + "-ca.pem";
        var export = await ChildProcess.RunAsync(Programs.Appliance, ["ca", "export", "--data", data, "--out", caPem], cancellationToken);
        if (export.ExitCode != 0)
        {
            throw new InvalidOperationException("privateserver ca export failed: " + export.Stderr);
        }

        var ca = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(caPem, cancellationToken));
        return new ApplianceProcess(data, init.Stdout.Trim(), ca);
    }

    /// <summary>Starts <c>privateserver run</c> (on a new free port unless given) and waits until /healthz answers.</summary>
    public async Task RunAsync(CancellationToken cancellationToken, int? port = null)
    {
        Port = port ?? FreePort.Next();
        _server = StartServer(Port);
        using var client = CreateClient();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_server.HasExited)
            {
                throw new InvalidOperationException($"privateserver run exited with {_server.ExitCode}: {_server.Stderr}");
            }

            try
            {
                using var response = await client.GetAsync("/healthz", cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Starts another <c>run</c> on this data folder without waiting for it (for refusal tests).</summary>
    public ChildProcess StartServer(int port)
    {
        var settings = new Dictionary<string, string>(Settings ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        if (TwoFactorRequiredFor is { } roles)
        {
            settings.TryAdd("PRIVATESERVER__Auth__TwoFactorRequiredFor", roles);
        }

        return ChildProcess.Start(Programs.Appliance, ["run", "--data", DataDirectory, "--urls", $"https://127.0.0.1:{port}"], settings);
    }

    /// <summary>Stops the server with SIGTERM and returns how it ended.</summary>
    public async Task<ProcessResult> StopAsync(CancellationToken cancellationToken)
    {
        var server = Server;
        server.Terminate();
        var result = await server.WaitForExitAsync(cancellationToken);
        await server.DisposeAsync();
        _server = null;
        return result;
    }

    /// <summary>Kills the server with SIGKILL, as a power cut would end it: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        await Server.DisposeAsync();
        _server = null;
    }

    /// <summary>Runs a <c>privateserver</c> verb on this data folder.</summary>
    public Task<ProcessResult> CliAsync(CancellationToken cancellationToken, params string[] arguments) =>
        ChildProcess.RunAsync(Programs.Appliance, [.. arguments, "--data", DataDirectory], cancellationToken);

    public HttpClient CreateClient(CookieContainer? cookies = null) => CaTrust.CreateClient(BrowserRoot ?? Ca, BaseAddress, cookies);

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Ca.Dispose();
        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }

        // And what tests keep beside the data folder: the exported CA, password files, exports, downloads, a TLS session.
        foreach (var beside in Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(DataDirectory)!, Path.GetFileName(DataDirectory) + "-*"))
        {
            if (Directory.Exists(beside))
            {
                Directory.Delete(beside, recursive: true);
            }
            else
            {
                File.Delete(beside);
            }
        }
    }
}
