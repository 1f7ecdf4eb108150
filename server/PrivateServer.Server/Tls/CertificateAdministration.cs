using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using PrivateServer.Certs.Authority;
using PrivateServer.Certs.Import;
using PrivateServer.Protocol.Files;
using PrivateServer.Server.Admin;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tls;

/// <summary>Where the browser-facing server certificate came from.</summary>
public static class ServerCertificateSource
{
    public const string ApplianceCa = "appliance-ca";
    public const string Imported = "imported";
    public const string Acme = "acme";
}

/// <summary>A certificate to import: a PFX (base64), or a PEM chain and PEM key; the password opens either; CaPem holds extra roots.</summary>
public sealed record CertificateImportRequest(string? PfxBase64, string? CertificatePem, string? KeyPem, string? Password, string? CaPem);

/// <summary>The server certificate as <c>cert show</c> tells it.</summary>
public sealed record CertificateView(
    string Subject, IReadOnlyList<string> Names, IReadOnlyList<string> Chain, DateTimeOffset NotBefore, DateTimeOffset NotAfter, string Fingerprint, string Source,
    string? PreviousFingerprint);

/// <summary>
/// Imports, shows and rolls back the browser-facing server certificate. An import is checked completely before
/// anything changes; then the current certificate becomes the previous one (for <c>cert rollback</c>), the new one
/// is written (its key encrypted with the master key) and — when the server runs — served from the next handshake,
/// without a restart. Modules never see it: they get the module certificate of the appliance CA.
/// </summary>
public sealed partial class CertificateAdministration(
    DataFolder folder, AuditTrail audit, TimeProvider time, ILogger<CertificateAdministration> logger, ServerCertificateStore? live = null) : IDisposable
{
    private readonly SemaphoreSlim _changing = new(1, 1);

    public async Task<AdminOutcome<CertificateView>> ImportAsync(CertificateImportRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await _changing.WaitAsync(cancellationToken);
        try
        {
            CandidateCertificate candidate;
            X509Certificate2Collection roots = [];
            try
            {
                candidate = Read(request);
                if (!string.IsNullOrWhiteSpace(request.CaPem))
                {
                    roots.ImportFromPem(request.CaPem);
                }
            }
            catch (CertificateImportException ex)
            {
                return AdminOutcome.Fail<CertificateView>(AdminFailureKind.Invalid, ex.Message);
            }
            catch (CryptographicException)
            {
                return AdminOutcome.Fail<CertificateView>(AdminFailureKind.Invalid, "the CA file is not valid PEM");
            }

            using (candidate)
            {
                IReadOnlyList<X509Certificate2> chain;
                try
                {
                    chain = ServerCertificateImport.Validate(candidate, roots, HostNames(), time.GetUtcNow());
                }
                catch (CertificateImportException ex)
                {
                    return AdminOutcome.Fail<CertificateView>(AdminFailureKind.Invalid, ex.Message);
                }
                finally
                {
                    Dispose(roots);
                }

                var view = await InstallAsync(candidate.Certificate, chain, ServerCertificateSource.Imported, "certificate.imported", cancellationToken);
                Dispose(chain);
                return AdminOutcome.Success(view);
            }
        }
        finally
        {
            _changing.Release();
        }
    }

    /// <summary>
    /// Installs a certificate an ACME CA issued for <paramref name="key"/> (PEM chain, server certificate first) after the checks every
    /// server certificate must pass (the chain is the CA's answer; its root need not be known here).
    /// </summary>
    public async Task<AdminOutcome<CertificateView>> InstallIssuedAsync(string chainPem, ECDsa key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chainPem);
        ArgumentNullException.ThrowIfNull(key);
        await _changing.WaitAsync(cancellationToken);
        var all = new X509Certificate2Collection();
        try
        {
            try
            {
                all.ImportFromPem(chainPem);
                if (all.Count == 0)
                {
                    return AdminOutcome.Fail<CertificateView>(AdminFailureKind.Invalid, "the ACME server sent no certificate");
                }

                using var withKey = all[0].CopyWithPrivateKey(key);
                ServerCertificateImport.CheckServerUse(withKey, HostNames(), time.GetUtcNow());
                return AdminOutcome.Success(await InstallAsync(withKey, all.Skip(1), ServerCertificateSource.Acme, "certificate.acme-issued", cancellationToken));
            }
            catch (CertificateImportException ex)
            {
                return AdminOutcome.Fail<CertificateView>(AdminFailureKind.Invalid, "the ACME certificate cannot be used: " + ex.Message);
            }
            catch (CryptographicException ex)
            {
                return AdminOutcome.Fail<CertificateView>(AdminFailureKind.Invalid, "the ACME server's answer is not a certificate chain: " + ex.Message);
            }
        }
        finally
        {
            Dispose(all);
            _changing.Release();
        }
    }

    /// <summary>Serves the certificate before the last import again (and keeps the current one as the previous).</summary>
    public async Task<AdminOutcome<CertificateView>> RollbackAsync(CancellationToken cancellationToken)
    {
        await _changing.WaitAsync(cancellationToken);
        try
        {
            if (!File.Exists(folder.PreviousServerCertificatePath) || !File.Exists(folder.PreviousServerKeyPath))
            {
                return AdminOutcome.Fail<CertificateView>(AdminFailureKind.NotFound, "there is no previous certificate to go back to");
            }

            var masterKey = folder.ReadMasterKey();
            var (previous, previousChain) = ServerCertificateStore.ReadServerCertificate(folder.PreviousServerCertificatePath, folder.PreviousServerKeyPath, masterKey);
            var expired = previous.NotAfter.ToUniversalTime() <= time.GetUtcNow().UtcDateTime;
            var notAfter = previous.NotAfter.ToUniversalTime();
            previous.Dispose();
            Dispose(previousChain);
            if (expired)
            {
                return AdminOutcome.Fail<CertificateView>(AdminFailureKind.Invalid, $"the previous certificate expired on {notAfter:yyyy-MM-dd HH:mm} UTC; import a new one");
            }

            Swap(folder.ServerCertificatePath, folder.PreviousServerCertificatePath);
            Swap(folder.ServerKeyPath, folder.PreviousServerKeyPath);
            Swap(folder.ServerCertificateSourcePath, folder.PreviousServerCertificateSourcePath);
            var view = Serve(masterKey);
            LogRolledBack(logger, view.Subject, view.Fingerprint);
            await audit.RecordChangeAsync(
                "certificate.rolled-back", view.Subject, AuditTrail.Details(("sha256", view.Fingerprint), ("previous", view.PreviousFingerprint)), cancellationToken);
            return AdminOutcome.Success(view);
        }
        finally
        {
            _changing.Release();
        }
    }

    public void Dispose() => _changing.Dispose();

    public Task<CertificateView> ShowAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPemFile(folder.ServerCertificatePath);
        try
        {
            return Task.FromResult(View(certificates[0], certificates.Skip(1)));
        }
        finally
        {
            Dispose(certificates);
        }
    }

    /// <summary>The host names every imported certificate must name: those of <c>init</c>, else the DNS names of the appliance-issued certificate.</summary>
    public IReadOnlyList<string> HostNames()
    {
        if (File.Exists(folder.HostNamesPath))
        {
            return File.ReadAllLines(folder.HostNamesPath).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        }

        // Data folders from before the names were written: the appliance-issued certificate has them.
        using var current = X509Certificate2.CreateFromPem(File.ReadAllText(folder.ServerCertificatePath));
        return Source(folder.ServerCertificateSourcePath, current) == ServerCertificateSource.ApplianceCa
            ? current.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(s => s.EnumerateDnsNames())
                .Where(n => !string.Equals(n, "localhost", StringComparison.OrdinalIgnoreCase)).ToList()
            : [];
    }

    /// <summary>Keeps the current certificate as the previous one, writes the new one (key encrypted with the master key), serves it, logs and audits it.</summary>
    private async Task<CertificateView> InstallAsync(
        X509Certificate2 certificate, IEnumerable<X509Certificate2> chain, string source, string action, CancellationToken cancellationToken)
    {
        var masterKey = folder.ReadMasterKey();
        KeepCurrentAsPrevious();
        SecureFile.WriteAllText(folder.ServerKeyPath, PrivateKeyPem.ExportEncrypted(certificate, masterKey));
        SecureFile.WriteAllText(folder.ServerCertificatePath, PrivateKeyPem.ExportCertificates(certificate, [.. chain]));
        SecureFile.WriteAllText(folder.ServerCertificateSourcePath, source + "\n");
        var view = Serve(masterKey);
        LogInstalled(logger, view.Subject, view.Fingerprint, view.NotAfter, source);
        await audit.RecordChangeAsync(
            action, view.Subject,
            AuditTrail.Details(
                ("sha256", view.Fingerprint), ("not-after", view.NotAfter.ToString("O")), ("issuer", view.Chain.Count > 0 ? view.Chain[0] : null),
                ("previous", view.PreviousFingerprint)),
            cancellationToken);
        return view;
    }

    private static CandidateCertificate Read(CertificateImportRequest request)
    {
        if (request.PfxBase64 is { } pfx)
        {
            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(pfx);
            }
            catch (FormatException ex)
            {
                throw new CertificateImportException("the PFX file could not be read", ex);
            }

            return ServerCertificateImport.ReadPfx(bytes, request.Password);
        }

        if (request.CertificatePem is null || request.KeyPem is null)
        {
            throw new CertificateImportException("give a PFX file, or a PEM certificate chain and its PEM key");
        }

        return ServerCertificateImport.ReadPem(request.CertificatePem, request.KeyPem, request.Password);
    }

    private void KeepCurrentAsPrevious()
    {
        SecureFile.CreatePrivateDirectory(Path.GetDirectoryName(folder.PreviousServerCertificatePath)!);
        File.Copy(folder.ServerCertificatePath, folder.PreviousServerCertificatePath, overwrite: true);
        File.Copy(folder.ServerKeyPath, folder.PreviousServerKeyPath, overwrite: true);
        using var current = X509Certificate2.CreateFromPem(File.ReadAllText(folder.ServerCertificatePath));
        SecureFile.WriteAllText(folder.PreviousServerCertificateSourcePath, Source(folder.ServerCertificateSourcePath, current) + "\n");
    }

    /// <summary>Serves what the files now hold (when the server runs) and describes it.</summary>
    private CertificateView Serve(string masterKey)
    {
        var (certificate, chain) = ServerCertificateStore.ReadServerCertificate(folder.ServerCertificatePath, folder.ServerKeyPath, masterKey);
        var view = View(certificate, chain);
        if (live is not null)
        {
            live.Replace(certificate, chain);
        }
        else
        {
            certificate.Dispose();
            Dispose(chain);
        }

        return view;
    }

    private CertificateView View(X509Certificate2 certificate, IEnumerable<X509Certificate2> chain)
    {
        string? previous = null;
        if (File.Exists(folder.PreviousServerCertificatePath))
        {
            using var before = X509Certificate2.CreateFromPem(File.ReadAllText(folder.PreviousServerCertificatePath));
            previous = CertificateFingerprint.Sha256Hex(before);
        }

        return new CertificateView(
            certificate.Subject, ServerCertificateImport.Names(certificate), [certificate.Issuer, .. chain.Select(c => c.Issuer).Where(i => i != certificate.Issuer)],
            new DateTimeOffset(certificate.NotBefore.ToUniversalTime()), new DateTimeOffset(certificate.NotAfter.ToUniversalTime()),
            CertificateFingerprint.Sha256Hex(certificate), Source(folder.ServerCertificateSourcePath, certificate), previous);
    }

    private string Source(string path, X509Certificate2 certificate)
    {
        if (File.Exists(path))
        {
            return File.ReadAllText(path).Trim();
        }

        using var ca = ServerCertificateStore.LoadCaCertificate(folder);
        return certificate.Issuer == ca.Subject ? ServerCertificateSource.ApplianceCa : ServerCertificateSource.Imported;
    }

    private static void Swap(string a, string b)
    {
        if (!File.Exists(b))
        {
            return;
        }

        var spare = a + ".swap";
        File.Move(a, spare, overwrite: true);
        File.Move(b, a);
        File.Move(spare, b);
    }

    private static void Dispose(IEnumerable<X509Certificate2> certificates)
    {
        foreach (var certificate in certificates)
        {
            certificate.Dispose();
        }
    }

    [LoggerMessage(EventId = 2010, Level = LogLevel.Warning, Message = "Server certificate installed: {Subject} (SHA-256 {Fingerprint}), valid until {NotAfter:u}, {Source}; served from the next handshake on")]
    private static partial void LogInstalled(ILogger logger, string subject, string fingerprint, DateTimeOffset notAfter, string source);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "Server certificate rolled back to {Subject} (SHA-256 {Fingerprint})")]
    private static partial void LogRolledBack(ILogger logger, string subject, string fingerprint);
}
