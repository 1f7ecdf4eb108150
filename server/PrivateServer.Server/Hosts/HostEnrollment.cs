using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using PrivateServer.Certs.Issuance;
using PrivateServer.Protocol.Api;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Tls;

namespace PrivateServer.Server.Hosts;

/// <summary>Turns an enrolment token and a host's certificate request into an enrolled host with a CA-issued client certificate.</summary>
public sealed partial class HostEnrollment(IHostStore hosts, ServerCertificateStore certificates, AuditTrail audit, TimeProvider time, ILogger<HostEnrollment> logger)
{
    public const int MaximumNameLength = 64;

    /// <summary>The response for the host, or the one-line reason it was refused.</summary>
    public async Task<(EnrollResponse? Response, string? Refusal)> EnrollAsync(EnrollRequest request, string source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var name = (request.Name ?? string.Empty).Trim();
        if (name.Length is 0 or > MaximumNameLength || name.Any(char.IsControl))
        {
            return (null, $"the host name must be 1–{MaximumNameLength} printable characters");
        }

        if (!ModuleCertificatePolicy.TryReadRequest(request.CertificateRequestPem, out var csr, out var problem))
        {
            return (null, problem);
        }

        var now = time.GetUtcNow();
        X509Certificate2? issued = null;
        var outcome = await hosts.EnrollAsync(SecretToken.Hash(request.Token ?? string.Empty), now, group =>
        {
            var hostId = "h-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
            issued = certificates.Authority.IssueHostCertificate(csr!, hostId, now, ModuleCertificatePolicy.HostValidity);
            return new HostRecord(
                hostId, name, group, issued.SerialNumber, issued.GetCertHashString(HashAlgorithmName.SHA256), now, null, null, null, [], null);
        }, cancellationToken);

        using (issued)
        {
            var refusal = outcome.Status switch
            {
                EnrollmentStatus.UnknownToken => "the enrolment token is not known (mistyped, or from another appliance)",
                EnrollmentStatus.UsedToken when outcome.MaxUses > 1 =>
                    $"the enrolment token was already used by all {outcome.MaxUses} hosts it allows; ask the admin for a new one",
                EnrollmentStatus.UsedToken => "the enrolment token was already used; ask the admin for a new one",
                EnrollmentStatus.ExpiredToken => "the enrolment token has expired; ask the admin for a new one",
                _ => null,
            };
            if (refusal is not null)
            {
                LogEnrolmentRefused(logger, name, source, refusal);
                await audit.RecordAsync(name, "host.enrol-refused", name, source: source, details: AuditTrail.Details(("reason", refusal)), cancellationToken: CancellationToken.None);
                return (null, refusal);
            }

            var host = outcome.Host!;
            LogEnrolled(logger, host.Name, host.Id, host.Group, source);
            await audit.RecordAsync(
                host.Name, "host.enrolled", host.Id, source: source,
                details: AuditTrail.Details(("group", host.Group), ("certificate-sha256", host.CertificateThumbprint)), cancellationToken: CancellationToken.None);
            return (new EnrollResponse(host.Id, host.Name, host.Group, issued!.ExportCertificatePem(), certificates.CaCertificate.ExportCertificatePem()), null);
        }
    }

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Host {HostName} enrolled as {HostId} in group {Group} from {Source}")]
    private static partial void LogEnrolled(ILogger logger, string hostName, string hostId, string group, string source);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Enrolment of host {HostName} from {Source} refused: {Reason}")]
    private static partial void LogEnrolmentRefused(ILogger logger, string hostName, string source, string reason);
}
