using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrivateServer.Certs.Authority;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Setup;
using PrivateServer.Server.Tls;

namespace PrivateServer.Server.Mail;

/// <summary>
/// Warns the admins by mail when the server certificate browsers see, or the appliance CA, nears its end: once each at 30, 7 and 1
/// days left (a restart or a second look never sends one twice: the warning's key is kept with the mail).
/// Checked at start and every 12 hours; every warning is logged too.
/// </summary>
public sealed partial class CertificateWarnings(
    ServerCertificateStore certificates, IUserStore users, IOutbox outbox, Mailer mailer, IOptionsMonitor<MailOptions> options, TimeProvider time,
    ILogger<CertificateWarnings> logger) : PeriodicService(Interval, time)
{
    public static readonly IReadOnlyList<int> Thresholds = [30, 7, 1];
    private static readonly TimeSpan Interval = TimeSpan.FromHours(12);

    /// <summary>Queues the warnings due now for the server certificate and the appliance CA, if not sent before; returns how many mails were queued.</summary>
    public async Task<int> CheckAsync(CancellationToken cancellationToken) =>
        await CheckAsync(certificates.Certificate, "Certificate", cancellationToken) + await CheckAsync(certificates.CaCertificate, "CaCertificate", cancellationToken);

    /// <summary>The threshold (30, 7 or 1 days) a certificate ending at <paramref name="notAfter"/> has reached at <paramref name="now"/>; 0 for none yet.</summary>
    public static int DueThreshold(DateTime notAfter, DateTimeOffset now)
    {
        var left = notAfter.ToUniversalTime() - now.UtcDateTime;
        return Thresholds.Where(t => left <= TimeSpan.FromDays(t)).DefaultIfEmpty(0).Min();
    }

    private async Task<int> CheckAsync(X509Certificate2 certificate, string texts, CancellationToken cancellationToken)
    {
        var now = Time.GetUtcNow();
        var due = DueThreshold(certificate.NotAfter, now);
        if (due == 0)
        {
            return 0;
        }

        var fingerprint = CertificateFingerprint.Sha256Hex(certificate);
        var days = Math.Max(0, (int)Math.Ceiling((certificate.NotAfter.ToUniversalTime() - now.UtcDateTime).TotalDays));
        LogExpiring(logger, certificate.Subject, days, certificate.NotAfter.ToUniversalTime());
        var queued = 0;
        foreach (var admin in (await users.ListAsync(cancellationToken)).Where(u => u is { Role: Role.Admin, Disabled: false } && Mailer.IsAddress(u.Email)))
        {
            var key = $"certificate-expiry:{fingerprint}:{due}:{admin.Name}";
            if (await outbox.ExistsAsync(key, cancellationToken))
            {
                continue;
            }

            var draft = MailContent.Start(options.CurrentValue.Language, days <= 1 ? texts + "SubjectDay" : texts + "Subject", days)
                .Paragraph(
                    texts + "Body", certificate.Subject, fingerprint, mailer.Address.Base.AbsoluteUri,
                    certificate.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture))
                .Paragraph(texts + "Action")
                .Link("CertificateLink", mailer.Address.Link("/admin/certificate"))
                .To("certificate-expiry", admin.Email!, mailer.Address.Base.AbsoluteUri);
            await mailer.QueueAsync(draft with { Key = key }, cancellationToken);
            queued++;
        }

        return queued;
    }

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => CheckAsync(cancellationToken);

    [LoggerMessage(EventId = 6020, Level = LogLevel.Warning, Message = "The certificate {Subject} expires in {Days} days ({NotAfter:u})")]
    private static partial void LogExpiring(ILogger logger, string subject, int days, DateTime notAfter);
}
