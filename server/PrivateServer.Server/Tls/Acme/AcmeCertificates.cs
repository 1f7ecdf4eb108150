using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrivateServer.Certs.Acme;
using PrivateServer.Protocol.Files;
using PrivateServer.Server.Admin;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tls.Acme;

/// <summary>Settings of the ACME client (section <c>Acme</c>).</summary>
public sealed class AcmeOptions
{
    public const string SectionName = "Acme";

    /// <summary>Where the http-01 validation is answered (plain HTTP) while an order runs; the ACME CA must reach it on port 80 of every host name.</summary>
    public string Http01Address { get; set; } = "0.0.0.0:80";
}

/// <summary>What <c>cert acme</c> asks for: the internal ACME CA's directory, the CA its HTTPS certificate chains to (PEM; else the system's), a contact.</summary>
public sealed record AcmeRequest(string Directory, string? DirectoryCaPem, string? Email);

/// <summary>The ACME setup as kept in <c>DATA/acme/state.json</c>, with the outcome of the last attempt.</summary>
public sealed record AcmeState(
    string Directory, string? DirectoryCaPem, string? Email, string? AccountUrl, DateTimeOffset? LastAttempt, DateTimeOffset? LastSuccess, string? LastError);

/// <summary>
/// Gets the server certificate from the company's internal ACME CA (RFC 8555): an ES256 account (its key kept
/// encrypted with the master key), an order for every host name, http-01 answered by the appliance itself on
/// <see cref="AcmeOptions.Http01Address"/>, then the issued chain installed like an import (source acme). The
/// directory and its CA are kept for renewal. The only connections opened are to that directory.
/// </summary>
public sealed partial class AcmeCertificates(
    DataFolder folder, CertificateAdministration certificates, IOptions<AcmeOptions> options, TimeProvider time, ILogger<AcmeCertificates> logger) : IDisposable
{
    private static readonly PbeParameters KeyEncryption = new(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 10_000);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly SemaphoreSlim _ordering = new(1, 1);

    private string Folder => Path.Combine(folder.Root, "acme");

    private string StatePath => Path.Combine(Folder, "state.json");

    private string AccountKeyPath => Path.Combine(Folder, "account.key");

    /// <summary>The ACME setup and the last outcome; null when ACME was never set up.</summary>
    public AcmeState? State => File.Exists(StatePath) ? JsonSerializer.Deserialize<AcmeState>(File.ReadAllText(StatePath), Json) : null;

    /// <summary>Sets up ACME with this directory and gets a certificate now.</summary>
    public async Task<AdminOutcome<CertificateView>> ObtainAsync(AcmeRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Uri.TryCreate(request.Directory, UriKind.Absolute, out var directory) || directory.Scheme != Uri.UriSchemeHttps)
        {
            return AdminOutcome.Fail<CertificateView>(AdminFailureKind.Invalid, $"the ACME directory must be an https:// address, not '{request.Directory}'");
        }

        if (request.DirectoryCaPem is not null && Roots(request.DirectoryCaPem).Count == 0)
        {
            return AdminOutcome.Fail<CertificateView>(AdminFailureKind.Invalid, "the directory CA file holds no PEM certificate");
        }

        var previous = State;
        var state = new AcmeState(
            directory.AbsoluteUri, request.DirectoryCaPem, string.IsNullOrWhiteSpace(request.Email) ? null : request.Email.Trim(),
            previous?.Directory == directory.AbsoluteUri ? previous.AccountUrl : null, null, previous?.LastSuccess, null);
        return await RunAsync(state, cancellationToken);
    }

    /// <summary>Orders a new certificate from the directory set up before (background renewal).</summary>
    public async Task<AdminOutcome<CertificateView>> RenewAsync(CancellationToken cancellationToken) =>
        State is { } state ? await RunAsync(state, cancellationToken) : AdminOutcome.Fail<CertificateView>(AdminFailureKind.NotFound, "ACME is not set up ('privateserver cert acme')");

    public void Dispose() => _ordering.Dispose();

    private async Task<AdminOutcome<CertificateView>> RunAsync(AcmeState state, CancellationToken cancellationToken)
    {
        await _ordering.WaitAsync(cancellationToken);
        try
        {
            var names = certificates.HostNames();
            if (names.Count == 0)
            {
                return Save(state, AdminOutcome.Fail<CertificateView>(AdminFailureKind.Invalid, "the appliance has no host names to order a certificate for (tls/hostnames)"));
            }

            using var accountKey = LoadOrCreateAccountKey();
            using var http = Client(state.DirectoryCaPem);
            var client = new AcmeClient(http, new Uri(state.Directory), accountKey, time);
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            string chain;
            try
            {
                state = state with { AccountUrl = await client.RegisterAsync(state.Email, cancellationToken) };
                await using var responder = Http01Responder.Start(options.Value.Http01Address, logger);
                chain = await client.OrderAsync(names, key, responder.Publish, cancellationToken);
            }
            catch (Exception ex) when (ex is AcmeException or InvalidOperationException)
            {
                LogFailed(logger, state.Directory, ex.Message);
                return Save(state, AdminOutcome.Fail<CertificateView>(AdminFailureKind.Invalid, "ACME: " + ex.Message));
            }

            var installed = await certificates.InstallIssuedAsync(chain, key, cancellationToken);
            if (installed.Value is { } view)
            {
                LogIssued(logger, state.Directory, view.Subject, view.NotAfter);
            }

            return Save(state, installed);
        }
        finally
        {
            _ordering.Release();
        }
    }

    private AdminOutcome<CertificateView> Save(AcmeState state, AdminOutcome<CertificateView> outcome)
    {
        var now = time.GetUtcNow();
        var saved = state with
        {
            LastAttempt = now,
            LastSuccess = outcome.Value is null ? state.LastSuccess : now,
            LastError = outcome.Failure?.Message,
        };
        SecureFile.CreatePrivateDirectory(Folder);
        SecureFile.WriteAllText(StatePath, JsonSerializer.Serialize(saved, Json));
        return outcome;
    }

    private ECDsa LoadOrCreateAccountKey()
    {
        var masterKey = folder.ReadMasterKey();
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        if (File.Exists(AccountKeyPath))
        {
            key.ImportFromEncryptedPem(File.ReadAllText(AccountKeyPath), masterKey);
            return key;
        }

        SecureFile.CreatePrivateDirectory(Folder);
        SecureFile.WriteAllText(AccountKeyPath, key.ExportEncryptedPkcs8PrivateKeyPem(masterKey, KeyEncryption));
        return key;
    }

    /// <summary>An HTTP client for the directory only: no proxy, TLS checked against the given CA (or the system's), nothing downloaded.</summary>
    private static HttpClient Client(string? caPem)
    {
        var roots = caPem is null ? null : Roots(caPem);
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            SslOptions = new SslClientAuthenticationOptions
            {
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                CertificateChainPolicy = roots is null ? null : Policy(roots),
            },
        };
        return new HttpClient(handler, disposeHandler: true) { Timeout = TimeSpan.FromSeconds(30) };
    }

    private static X509ChainPolicy Policy(X509Certificate2Collection roots)
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        policy.CustomTrustStore.AddRange(roots);
        return policy;
    }

    private static X509Certificate2Collection Roots(string pem)
    {
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPem(pem);
        }
        catch (CryptographicException)
        {
            roots.Clear();
        }

        return roots;
    }

    [LoggerMessage(EventId = 2021, Level = LogLevel.Warning, Message = "ACME certificate from {Directory}: {Subject}, valid until {NotAfter:u}")]
    private static partial void LogIssued(ILogger logger, string directory, string subject, DateTimeOffset notAfter);

    [LoggerMessage(EventId = 2022, Level = LogLevel.Error, Message = "ACME order at {Directory} failed: {Problem}")]
    private static partial void LogFailed(ILogger logger, string directory, string problem);
}
