using System.Security.Cryptography;
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

    /// <summary>How often an enrolment that lost the race for a token's last use looks at the token again.</summary>
    private const int MaximumAttempts = 100;

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

        // The token is checked again inside the transaction that adds the host: when another host used its last use
        // meanwhile, the change fails and the next look at the token says why.
        for (var attempt = 0; ; attempt++)
        {
            var now = time.GetUtcNow();
            var token = await hosts.FindTokenAsync(SecretToken.Hash(request.Token ?? string.Empty), cancellationToken);
            var refusal = token switch
            {
                null => "the enrolment token is not known (mistyped, or from another appliance)",
                { UsedUp: true, MaxUses: > 1 } => $"the enrolment token was already used by all {token.MaxUses} hosts it allows; ask the admin for a new one",
                { UsedUp: true } => "the enrolment token was already used; ask the admin for a new one",
                _ when token.ExpiresAt <= now => "the enrolment token has expired; ask the admin for a new one",
                _ => null,
            };
            if (refusal is not null)
            {
                LogEnrolmentRefused(logger, name, source, refusal);
                await audit.RecordAsync(name, "host.enrol-refused", name, source: source, details: AuditTrail.Details(("reason", refusal)), cancellationToken: CancellationToken.None);
                return (null, refusal);
            }

            var hostId = "h-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
            using var issued = certificates.Authority.IssueHostCertificate(csr!, hostId, now, ModuleCertificatePolicy.HostValidity);
            var host = new HostRecord(
                hostId, name, token!.Group, issued.SerialNumber, issued.GetCertHashString(HashAlgorithmName.SHA256), now, null, null, null, [], null);
            var change = new AtomicChange();
            change.Enrolments.Add(new HostEnrolment(token.Hash, host, now));
            change.Audit.Add(audit.Entry(
                host.Name, "host.enrolled", host.Id, source: source,
                details: AuditTrail.Details(("group", host.Group), ("certificate-sha256", host.CertificateThumbprint))));
            try
            {
                await audit.WriteAsync(change, CancellationToken.None);
            }
            catch (AtomicConflictException) when (attempt < MaximumAttempts)
            {
                continue;
            }

            LogEnrolled(logger, host.Name, host.Id, host.Group, source);
            return (new EnrollResponse(host.Id, host.Name, host.Group, issued.ExportCertificatePem(), certificates.CaCertificate.ExportCertificatePem()), null);
        }
    }

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Host {HostName} enrolled as {HostId} in group {Group} from {Source}")]
    private static partial void LogEnrolled(ILogger logger, string hostName, string hostId, string group, string source);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Enrolment of host {HostName} from {Source} refused: {Reason}")]
    private static partial void LogEnrolmentRefused(ILogger logger, string hostName, string source, string reason);
}
