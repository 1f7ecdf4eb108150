using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Mail;
using PrivateServer.Server.Storage;
using PrivateServer.Server.Tls;
using PrivateServer.Server.Tls.Acme;

namespace PrivateServer.Server.Admin;

/// <summary>One check of <c>privateserver doctor</c>: ok, warning or problem, with what was found.</summary>
public sealed record DoctorCheck(string Name, string Status, string Detail);

public sealed record DoctorReport(IReadOnlyList<DoctorCheck> Checks);

/// <summary>
/// What an admin (or monitoring) should look at: certificate lifetimes (server, CA, module; warnings from 30 days on),
/// the audit trail's chain and signed head, mail that waits or failed, and the last ACME renewal.
/// </summary>
public sealed class ApplianceDoctor(
    DataFolder folder, CertificateAdministration certificates, AuditTrail audit, AuditSeal seal, Mailer mailer, IOutbox outbox, AcmeCertificates acme, TimeProvider time)
{
    public const string Ok = "ok";
    public const string Warning = "warning";
    public const string Problem = "problem";

    public async Task<DoctorReport> DiagnoseAsync(CancellationToken cancellationToken)
    {
        var checks = new List<DoctorCheck>();
        var server = await certificates.ShowAsync(cancellationToken);
        checks.Add(Lifetime("server certificate", $"{server.Subject} ({server.Source})", server.NotAfter));
        using (var ca = ServerCertificateStore.LoadCaCertificate(folder))
        {
            checks.Add(Lifetime("appliance CA", ca.Subject, new DateTimeOffset(ca.NotAfter.ToUniversalTime())));
        }

        if (File.Exists(folder.ModuleCertificatePath))
        {
            using var module = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(folder.ModuleCertificatePath, cancellationToken));
            checks.Add(Lifetime("module certificate", "renewed at start 60 days before its end", new DateTimeOffset(module.NotAfter.ToUniversalTime())));
        }

        var trail = await seal.CheckAsync(await audit.VerifyAsync(cancellationToken), cancellationToken);
        checks.Add(trail.Intact
            ? new DoctorCheck("audit trail", Ok, $"{trail.Verified} events chained" + (trail.SignedHead is { } head ? $", head signed at event {head}" : string.Empty))
            : new DoctorCheck("audit trail", Problem, $"broken at event {trail.BrokenAt}: {trail.Problem}"));

        var mails = await outbox.ListAsync(includeSent: false, 500, cancellationToken);
        var waiting = mails.Count(m => m.State is MailState.Queued or MailState.Sending);
        var failed = mails.Count(m => m.State == MailState.Failed);
        var blocked = await mailer.BlockedAsync(cancellationToken);
        checks.Add(
            failed > 0 ? new DoctorCheck("mail", Warning, $"{failed} mails given up, {waiting} waiting ('privateserver mail queue')")
            : waiting > 0 && blocked is not null ? new DoctorCheck("mail", Warning, $"{waiting} mails wait: {blocked}")
            : waiting > 0 ? new DoctorCheck("mail", Ok, $"{waiting} mails on their way")
            : new DoctorCheck("mail", Ok, blocked ?? "the outbox is empty"));

        if (acme.State is { } state)
        {
            checks.Add(state.LastError is { } error
                ? new DoctorCheck("acme", Warning, $"last attempt {state.LastAttempt:u} failed: {error}")
                : new DoctorCheck("acme", Ok, $"{state.Directory}, last certificate {state.LastSuccess:u}"));
        }

        return new DoctorReport(checks);
    }

    private DoctorCheck Lifetime(string name, string what, DateTimeOffset notAfter)
    {
        var days = (int)Math.Floor((notAfter - time.GetUtcNow()).TotalDays);
        var until = notAfter.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        return days < 0 ? new DoctorCheck(name, Problem, $"{what}: expired on {until}")
            : days <= 30 ? new DoctorCheck(name, Warning, $"{what}: expires on {until}, in {days} days")
            : new DoctorCheck(name, Ok, $"{what}: valid until {until} ({days} days)");
    }
}
