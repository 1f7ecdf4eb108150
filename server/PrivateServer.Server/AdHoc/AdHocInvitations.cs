using System.Globalization;
using PrivateServer.Certs.Authority;
using PrivateServer.Protocol.Sessions;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Mail;
using PrivateServer.Server.Settings;
using PrivateServer.Server.Tls;

namespace PrivateServer.Server.AdHoc;

/// <summary>
/// Mails a customer a session code: the code, the one command that joins with it (server, code, CA
/// fingerprint), and the support terms in the mail's language — so the customer can read what they
/// will accept before anything starts.
/// </summary>
public sealed class AdHocInvitations(Mailer mailer, SettingsService settings, ServerCertificateStore certificates, AuditTrail audit)
{
    public async Task<OutboxMail> MailCodeAsync(
        User supporter, string code, DateTimeOffset expires, string email, string? language, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(supporter);
        var current = await settings.CurrentAsync(cancellationToken);
        var content = MailContent.Start(language, "AdHocSubject");
        content.Paragraph("AdHocBody", supporter.Name, current.CompanyName ?? content.T("AdHocYourCompany"))
            .Code(SessionCode.Format(code))
            .Paragraph("AdHocValid", expires.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture))
            .Paragraph("AdHocHowTo")
            .Code($"privateserver-host join --server {mailer.Address.Base.GetLeftPart(UriPartial.Authority)} --code {code} " +
                $"--ca-fingerprint {CertificateFingerprint.Sha256Hex(certificates.CaCertificate)} --service screen=127.0.0.1:5900")
            .Paragraph("AdHocConsent");
        if (current.SupportTerms.TryGetValue(content.Language, out var terms) || current.SupportTerms.TryGetValue("en", out terms))
        {
            content.Paragraph("AdHocTerms").Verbatim(terms);
        }

        var mail = mailer.Prepare(content.To("adhoc-invitation", email, mailer.Address.Base.AbsoluteUri));
        var change = new AtomicChange();
        change.Mails.Add(mail);
        change.Audit.Add(audit.Entry(
            supporter.Name, "code.mailed", email, details: AuditTrail.Details(("mail", mail.Id), ("expires", expires.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)))));
        await audit.WriteAsync(change, cancellationToken);
        mailer.Queued(mail);
        return mail;
    }
}
