using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Mail;
using PrivateServer.Server.Setup;

namespace PrivateServer.Server.Tls.Acme;

/// <summary>
/// Renews an ACME certificate in the background once two thirds of its lifetime have passed (checked at start and every
/// 6 hours). A failed renewal is logged, kept for the admin center, and mailed to every enabled admin with an address,
/// at most once a day each — while the current certificate still works, so there is time to act.
/// </summary>
public sealed partial class AcmeRenewal(
    AcmeCertificates acme, CertificateAdministration certificates, IUserStore users, IOutbox outbox, Mailer mailer, IOptionsMonitor<MailOptions> mailOptions,
    TimeProvider time, ILogger<AcmeRenewal> logger) : PeriodicService(Interval, time)
{
    private static readonly TimeSpan Interval = TimeSpan.FromHours(6);

    /// <summary>Whether a certificate valid from <paramref name="notBefore"/> to <paramref name="notAfter"/> is due for renewal at <paramref name="now"/>.</summary>
    public static bool IsDue(DateTimeOffset notBefore, DateTimeOffset notAfter, DateTimeOffset now) => now >= notBefore + ((notAfter - notBefore) * 2 / 3);

    /// <summary>Renews when due; returns null when nothing was due, else whether the renewal worked.</summary>
    public async Task<bool?> CheckAsync(CancellationToken cancellationToken)
    {
        if (acme.State is null)
        {
            return null;
        }

        var current = await certificates.ShowAsync(cancellationToken);
        if (current.Source != ServerCertificateSource.Acme || !IsDue(current.NotBefore, current.NotAfter, Time.GetUtcNow()))
        {
            return null;
        }

        var renewed = await acme.RenewAsync(cancellationToken);
        if (renewed.Failure is { } failure)
        {
            LogRenewalFailed(logger, failure.Message, current.NotAfter);
            await MailAdminsAsync(failure.Message, current, cancellationToken);
            return false;
        }

        return true;
    }

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => CheckAsync(cancellationToken);

    private async Task MailAdminsAsync(string problem, CertificateView current, CancellationToken cancellationToken)
    {
        var day = Time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        foreach (var admin in (await users.ListAsync(cancellationToken)).Where(u => u is { Role: Role.Admin, Disabled: false } && Mailer.IsAddress(u.Email)))
        {
            var key = $"acme-failure:{day}:{admin.Name}";
            if (await outbox.ExistsAsync(key, cancellationToken))
            {
                continue;
            }

            var draft = MailContent.Start(mailOptions.CurrentValue.Language, "AcmeFailedSubject")
                .Paragraph("AcmeFailedBody", acme.State?.Directory ?? "-", problem)
                .Paragraph("AcmeFailedCurrent", current.NotAfter.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture))
                .Link("CertificateLink", mailer.Address.Link("/admin"))
                .To("acme-failure", admin.Email!, mailer.Address.Base.AbsoluteUri);
            await mailer.QueueAsync(draft with { Key = key }, cancellationToken);
        }
    }

    [LoggerMessage(EventId = 2023, Level = LogLevel.Error, Message = "ACME renewal failed ({Problem}); the current certificate is valid until {NotAfter:u}")]
    private static partial void LogRenewalFailed(ILogger logger, string problem, DateTimeOffset notAfter);
}
