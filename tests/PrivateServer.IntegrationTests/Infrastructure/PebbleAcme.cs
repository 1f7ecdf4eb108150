using System.Globalization;
using System.Net.Sockets;

namespace PrivateServer.IntegrationTests.Infrastructure;

/// <summary>
/// A real ACME CA for one test: Debian's pebble on 127.0.0.1 with an HTTPS certificate from the test's own CA
/// (<see cref="DirectoryCa"/>), resolving every name to 127.0.0.1 through pebble-challtestsrv's DNS, and validating
/// http-01 for real on <see cref="Http01Port"/> — where the appliance must answer. Nonces are never rejected at random.
/// Disposing stops both and removes the folder.
/// </summary>
public sealed class PebbleAcme : IAsyncDisposable
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);
    private readonly string _folder;
    private readonly List<ChildProcess> _processes = [];

    private PebbleAcme(string folder)
    {
        _folder = folder;
    }

    public int Port { get; private set; }

    public int Http01Port { get; private set; }

    /// <summary>The directory URL.</summary>
    public string Directory => $"https://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/dir";

    /// <summary>The CA (PEM) pebble's HTTPS certificate chains to.</summary>
    public string DirectoryCa => Path.Combine(_folder, "ca.pem");

    public string Log => string.Join('\n', _processes.Select(p => p.Stderr + p.Stdout));

    public static async Task<PebbleAcme> StartAsync(CancellationToken cancellationToken)
    {
        var pebble = new PebbleAcme(System.IO.Directory.CreateTempSubdirectory("ps-pebble-").FullName);
        try
        {
            await pebble.RunAsync(cancellationToken);
            return pebble;
        }
        catch
        {
            await pebble.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.StopAsync(StopGrace);
        }

        if (System.IO.Directory.Exists(_folder))
        {
            System.IO.Directory.Delete(_folder, recursive: true);
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var tls = TestCa.WriteServerCertificate(_folder);
        var dns = FreePort.Next();
        Port = FreePort.Next();
        Http01Port = FreePort.Next();
        var config = Path.Combine(_folder, "pebble.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "pebble": {
                "listenAddress": "127.0.0.1:{{Port}}",
                "managementListenAddress": "127.0.0.1:{{FreePort.Next()}}",
                "certificate": "{{tls.Certificate}}",
                "privateKey": "{{tls.Key}}",
                "httpPort": {{Http01Port}},
                "tlsPort": {{FreePort.Next()}},
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false
              }
            }
            """, cancellationToken);
        _processes.Add(ChildProcess.Start("pebble-challtestsrv", [
            "-dns01", $"127.0.0.1:{dns}", "-http01", "", "-https01", "", "-tlsalpn01", "", "-management", $"127.0.0.1:{FreePort.Next()}",
            "-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""]));
        var environment = new Dictionary<string, string>
        {
            ["PEBBLE_VA_NOSLEEP"] = "1",
            ["PEBBLE_WFE_NONCEREJECT"] = "0",
            ["PEBBLE_AUTHZREUSE"] = "0",
        };
        var server = ChildProcess.Start("pebble", ["-config", config, "-dnsserver", $"127.0.0.1:{dns}"], environment);
        _processes.Add(server);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (server.HasExited)
            {
                throw new InvalidOperationException($"pebble exited with {server.ExitCode}: {server.Stderr}{server.Stdout}");
            }

            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync("127.0.0.1", Port, cancellationToken);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50, cancellationToken);
            }
        }
    }
}
