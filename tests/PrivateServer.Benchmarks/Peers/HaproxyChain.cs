using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.Benchmarks.Peers;

/// <summary>
/// The relay's topology built from HAProxy, a TLS proxy written in C: three processes on 127.0.0.1 as the supporter
/// module, the appliance and the host module are — plain TCP in, TLS 1.3 to the middle one, which decrypts and
/// encrypts again, TLS 1.3 to the last, plain TCP out — so every byte passes four AES-256-GCM ends, as it does through
/// the relay. It measures what this machine allows that topology, whoever implements it. Certificate, key and
/// configurations live in a 0700 temp folder; all three processes are killed and the folder removed when disposed.
/// </summary>
internal sealed class HaproxyChain : IAsyncDisposable
{
    private const string HaproxyPath = "haproxy";

    /// <summary>The name the two TLS servers' certificate carries and the clients check.</summary>
    private const string ServerName = "relay.bench.invalid";

    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(15);

    private readonly string _folder;
    private readonly IReadOnlyList<ChildProcess> _processes;

    private HaproxyChain(string folder, IReadOnlyList<ChildProcess> processes, int port)
    {
        _folder = folder;
        _processes = processes;
        Port = port;
    }

    /// <summary>Where the first process listens for plain TCP (the role of a supporter module's forward).</summary>
    public int Port { get; }

    /// <summary>The three processes, first to last.</summary>
    public IReadOnlyList<int> ProcessIds => _processes.Select(p => p.Id).ToArray();

    /// <summary>Starts the three processes, last first, and returns once each accepts connections; the last connects to <paramref name="targetPort"/>.</summary>
    public static async Task<HaproxyChain> StartAsync(int targetPort, CancellationToken cancellationToken)
    {
        var folder = Directory.CreateTempSubdirectory("privateserver-haproxy-").FullName;
        var processes = new List<ChildProcess>();
        try
        {
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var (certificate, keyAndCertificate) = (Path.Combine(folder, "ca.pem"), Path.Combine(folder, "server.pem"));
            WriteCertificate(certificate, keyAndCertificate);

            var ports = new[] { FreePort.Next(), FreePort.Next(), FreePort.Next() };
            var tlsServer = $"ssl crt {keyAndCertificate} ssl-min-ver TLSv1.3";
            var tlsClient = $"ssl ssl-min-ver TLSv1.3 ca-file {certificate} verify required verifyhost {ServerName} sni str({ServerName})";
            (string Bind, int Next, string Server)[] roles =
            [
                (string.Empty, ports[1], tlsClient),   // the supporter module's role: plain in, TLS out
                (tlsServer, ports[2], tlsClient),      // the appliance's: TLS in, TLS out
                (tlsServer, targetPort, string.Empty), // the host module's: TLS in, plain out
            ];
            for (var i = roles.Length - 1; i >= 0; i--)
            {
                LoopbackPort.ThrowIfTaken(ports[i]);
                var config = Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"haproxy-{i}.cfg"));
                await File.WriteAllLinesAsync(config, Configuration(ports[i], roles[i].Bind, roles[i].Next, roles[i].Server), cancellationToken);
                var process = ChildProcess.Start(HaproxyPath, ["-f", config, "-db"]);
                processes.Add(process);
                await LoopbackPort.WaitUntilAcceptingAsync(ports[i], process, "haproxy", StartDeadline, cancellationToken);
            }

            processes.Reverse();
            return new HaproxyChain(folder, processes, ports[0]);
        }
        catch
        {
            foreach (var process in processes)
            {
                await process.DisposeAsync();
            }

            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    /// <summary>
    /// One process: listen on <paramref name="port"/>, pass every connection on to <paramref name="next"/>; TLS 1.3 with
    /// AES-256-GCM only (as the appliance and the modules speak it) wherever a side says ssl. Everything else is
    /// HAProxy's default, as an operator would run it (one thread per core, 16 KiB buffers).
    /// </summary>
    private static string[] Configuration(int port, string bind, int next, string server) =>
    [
        "global",
        "  maxconn 1000",
        "  ssl-default-bind-ciphersuites TLS_AES_256_GCM_SHA384",
        "  ssl-default-server-ciphersuites TLS_AES_256_GCM_SHA384",
        "defaults",
        "  mode tcp",
        "  timeout connect 5s",
        "  timeout client 120s",
        "  timeout server 120s",
        "listen relay",
        string.Create(CultureInfo.InvariantCulture, $"  bind 127.0.0.1:{port} {bind}"),
        string.Create(CultureInfo.InvariantCulture, $"  server next 127.0.0.1:{next} {server}"),
    ];

    /// <summary>A throwaway ECDSA P-256 certificate for <see cref="ServerName"/>: the certificate alone (what the clients trust) and certificate plus key (what the servers present).</summary>
    private static void WriteCertificate(string certificatePath, string keyAndCertificatePath)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + ServerName, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(ServerName);
        request.CertificateExtensions.Add(names.Build());
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(2));
        var pem = certificate.ExportCertificatePem() + "\n";
        File.WriteAllText(certificatePath, pem);
        File.WriteAllText(keyAndCertificatePath, pem + key.ExportPkcs8PrivateKeyPem() + "\n");
    }
}
