using PrivateServer.Server.Mail;

namespace PrivateServer.Server.Admin;

/// <summary>The in-process admin verbs: accounts, hosts, audit and mail.</summary>
public sealed class ApplianceAdministration(
    AccountAdministration accounts, HostAdministration hosts, Audit.AuditTrail audit, Audit.AuditSeal seal, Audit.AuditExporter exporter, Mailer mail, Tls.CertificateAdministration certificates, Tls.Acme.AcmeCertificates acme, ApplianceDoctor doctor, Scripts.ScriptAdministration scripts, Auth.LoginThrottle throttle) : IApplianceAdministration
{
    public Task<AdminOutcome<UserView>> SignOutUserAsync(string name, CancellationToken cancellationToken) => accounts.SignOutAsync(name, cancellationToken);

    public Task<AdminOutcome<UserView>> ResetTwoFactorAsync(string name, CancellationToken cancellationToken) => accounts.ResetTwoFactorAsync(name, cancellationToken);

    public Task<IReadOnlyList<LoginLockView>> ListLoginLocksAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<LoginLockView>>([.. throttle.Locks().Select(View)]);

    public async Task<AdminOutcome<LoginLockView>> UnlockLoginAsync(string subject, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subject);
        var held = throttle.Locks().FirstOrDefault(l => string.Equals(l.Subject, subject.Trim(), StringComparison.OrdinalIgnoreCase));
        if (!throttle.Unlock(subject.Trim()) || held is null)
        {
            return AdminOutcome.Fail<LoginLockView>(AdminFailureKind.NotFound, $"'{subject}' is not slowed down or blocked (a restart forgets failed sign-ins)");
        }

        await audit.RecordAsync("admin", "login.unlocked", held.Subject, details: Audit.AuditTrail.Details(("kind", held.Kind), ("failures", held.Failures.ToString(System.Globalization.CultureInfo.InvariantCulture))), cancellationToken: cancellationToken);
        return AdminOutcome.Success(View(held));
    }

    private static LoginLockView View(Auth.LoginLock held) => new(held.Kind, held.Subject, held.Failures, held.LastFailure, held.BlockedUntil, held.NextAttempt);

    public Task<AdminOutcome<Scripts.ScriptView>> AddScriptAsync(Scripts.AddScriptRequest request, CancellationToken cancellationToken) =>
        scripts.AddAsync(request, cancellationToken);

    public Task<IReadOnlyList<Scripts.ScriptView>> ListScriptsAsync(CancellationToken cancellationToken) => scripts.ListAsync(cancellationToken);

    public Task<AdminOutcome<Scripts.ScriptView>> RemoveScriptAsync(string name, CancellationToken cancellationToken) => scripts.RemoveAsync(name, cancellationToken);

    public Task<AdminOutcome<AddUserResponse>> AddUserAsync(AddUserRequest request, CancellationToken cancellationToken) =>
        accounts.AddUserAsync(request, cancellationToken);

    public Task<IReadOnlyList<UserView>> ListUsersAsync(CancellationToken cancellationToken) => accounts.ListUsersAsync(cancellationToken);

    public Task<AdminOutcome<AddUserResponse>> InviteUserAsync(InviteUserRequest request, CancellationToken cancellationToken) =>
        accounts.InviteUserAsync(request, cancellationToken);

    public Task<AdminOutcome<GroupView>> AddGroupAsync(AddGroupRequest request, CancellationToken cancellationToken) =>
        accounts.AddGroupAsync(request, cancellationToken);

    public Task<IReadOnlyList<GroupView>> ListGroupsAsync(CancellationToken cancellationToken) => accounts.ListGroupsAsync(cancellationToken);

    public Task<AdminOutcome<GroupView>> UpdateGroupAsync(UpdateGroupRequest request, CancellationToken cancellationToken) =>
        accounts.UpdateGroupAsync(request, cancellationToken);

    public Task<AdminOutcome<EnrollmentTokenView>> CreateEnrollmentTokenAsync(CreateEnrollmentTokenRequest request, CancellationToken cancellationToken) =>
        hosts.CreateEnrollmentTokenAsync(request, cancellationToken);

    public Task<IReadOnlyList<HostView>> ListHostsAsync(CancellationToken cancellationToken) => hosts.ListHostsAsync(cancellationToken);

    public Task<AdminOutcome<HostView>> RevokeHostAsync(string host, CancellationToken cancellationToken) => hosts.RevokeHostAsync(host, cancellationToken);

    public async Task<Audit.AuditVerification> VerifyAuditAsync(CancellationToken cancellationToken) =>
        await seal.CheckAsync(await audit.VerifyAsync(cancellationToken), cancellationToken);

    public Task<AdminOutcome<Audit.AuditExportResult>> ExportAuditAsync(Audit.AuditExportRequest request, CancellationToken cancellationToken) =>
        exporter.ExportAsync(request, cancellationToken);

    public async Task<MailQueueView> ListMailAsync(bool includeSent, CancellationToken cancellationToken) =>
        new((await mail.ListAsync(includeSent, cancellationToken)).Select(View).ToList(), await mail.BlockedAsync(cancellationToken));

    public async Task<AdminOutcome<MailView>> RetryMailAsync(string id, CancellationToken cancellationToken) =>
        View(await mail.RetryAsync(id, cancellationToken));

    public async Task<AdminOutcome<MailView>> QueueTestMailAsync(TestMailRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return View(await mail.QueueTestAsync(request.To, request.Language, cancellationToken));
    }

    public Task<Tls.CertificateView> ShowCertificateAsync(CancellationToken cancellationToken) => certificates.ShowAsync(cancellationToken);

    public Task<AdminOutcome<Tls.CertificateView>> ImportCertificateAsync(Tls.CertificateImportRequest request, CancellationToken cancellationToken) =>
        certificates.ImportAsync(request, cancellationToken);

    public Task<AdminOutcome<Tls.CertificateView>> RollbackCertificateAsync(CancellationToken cancellationToken) => certificates.RollbackAsync(cancellationToken);

    public Task<AdminOutcome<Tls.CertificateView>> ObtainAcmeCertificateAsync(Tls.Acme.AcmeRequest request, CancellationToken cancellationToken) =>
        acme.ObtainAsync(request, cancellationToken);

    public Task<DoctorReport> DiagnoseAsync(CancellationToken cancellationToken) => doctor.DiagnoseAsync(cancellationToken);

    public static MailView View(OutboxMail mail)
    {
        ArgumentNullException.ThrowIfNull(mail);
        return new MailView(
            mail.Id, mail.Kind, mail.To, mail.Language, mail.Subject, mail.State.ToString().ToLowerInvariant(), mail.Attempts, mail.CreatedAt,
            mail.NextAttemptAt, mail.LastAttemptAt, mail.LastError, mail.SentAt);
    }

    private static AdminOutcome<MailView> View(AdminOutcome<OutboxMail> outcome) =>
        outcome.Value is { } value ? AdminOutcome.Success(View(value)) : new AdminOutcome<MailView>(null, outcome.Failure);
}
