using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using PrivateServer.Certs.Authority;
using PrivateServer.Server.Admin;
using PrivateServer.Server.Tls;
using PrivateServer.Server.Tls.Acme;

namespace PrivateServer.Server.Web.Pages.Admin;

/// <summary>The server certificate: what browsers get now, import (PFX or PEM upload), rollback, and ACME with its last outcome.</summary>
public sealed class AdminCertificateModel(CertificateAdministration certificates, AcmeCertificates acme, ServerCertificateStore store, TimeProvider time) : AdminPage
{
    public const long MaximumUpload = 256 * 1024;

    public CertificateView Current { get; private set; } = null!;

    public AcmeState? Acme { get; private set; }

    public string CaFingerprint => CertificateFingerprint.Sha256Hex(store.CaCertificate);

    public int DaysLeft => (int)Math.Floor((Current.NotAfter - time.GetUtcNow()).TotalDays);

    public Task OnGetAsync(CancellationToken cancellationToken) => LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostImportAsync(
        IFormFile? pfx, IFormFile? chain, IFormFile? key, IFormFile? caFile, string? password, CancellationToken cancellationToken)
    {
        var request = new CertificateImportRequest(
            pfx is null ? null : Convert.ToBase64String(await ReadBytesAsync(pfx, cancellationToken)),
            chain is null ? null : await ReadTextAsync(chain, cancellationToken),
            key is null ? null : await ReadTextAsync(key, cancellationToken),
            string.IsNullOrEmpty(password) ? null : password,
            caFile is null ? null : await ReadTextAsync(caFile, cancellationToken));
        var outcome = request.PfxBase64 is null && request.CertificatePem is null
            ? AdminOutcome.Fail<CertificateView>(AdminFailureKind.Invalid, "choose a PFX file, or a PEM certificate chain and its key")
            : await certificates.ImportAsync(request, cancellationToken);
        Apply(outcome, "CertificateImported", outcome.Value?.Subject ?? string.Empty);
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostRollbackAsync(CancellationToken cancellationToken)
    {
        var outcome = await certificates.RollbackAsync(cancellationToken);
        Apply(outcome, "CertificateRolledBack", outcome.Value?.Subject ?? string.Empty);
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostAcmeAsync(string? directory, IFormFile? directoryCa, string? email, CancellationToken cancellationToken)
    {
        var outcome = await acme.ObtainAsync(
            new AcmeRequest(directory ?? string.Empty, directoryCa is null ? null : await ReadTextAsync(directoryCa, cancellationToken), email), cancellationToken);
        Apply(outcome, "CertificateFromAcme", outcome.Value?.Subject ?? string.Empty);
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        Current = await certificates.ShowAsync(cancellationToken);
        Acme = acme.State;
    }

    private static async Task<byte[]> ReadBytesAsync(IFormFile file, CancellationToken cancellationToken)
    {
        if (file.Length > MaximumUpload)
        {
            return [];
        }

        using var buffer = new MemoryStream();
        await file.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    private static async Task<string> ReadTextAsync(IFormFile file, CancellationToken cancellationToken) =>
        System.Text.Encoding.UTF8.GetString(await ReadBytesAsync(file, cancellationToken));
}
