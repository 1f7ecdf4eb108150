namespace PrivateServer.Server.Admin;

/// <summary>
/// The admin verbs. Implemented in-process over the stores (<see cref="AccountAdministration"/>)
/// and, in the CLI, over the running server's admin socket.
/// </summary>
public interface IApplianceAdministration
{
    Task<AdminOutcome<AddUserResponse>> AddUserAsync(AddUserRequest request, CancellationToken cancellationToken);

    Task<IReadOnlyList<UserView>> ListUsersAsync(CancellationToken cancellationToken);

    /// <summary>Signs a user out everywhere: every supporter-module token and every live session.</summary>
    Task<AdminOutcome<UserView>> SignOutUserAsync(string name, CancellationToken cancellationToken);

    /// <summary>Removes a user's second factor (audited); not found when they have none.</summary>
    Task<AdminOutcome<UserView>> ResetTwoFactorAsync(string name, CancellationToken cancellationToken);

    /// <summary>Account names and source addresses slowed down or blocked after failed sign-ins.</summary>
    Task<IReadOnlyList<LoginLockView>> ListLoginLocksAsync(CancellationToken cancellationToken);

    /// <summary>Lifts the lock of an account name or a source address (audited); not found when there is none.</summary>
    Task<AdminOutcome<LoginLockView>> UnlockLoginAsync(string subject, CancellationToken cancellationToken);

    /// <summary>Mails a user a new set-password link (an invitation).</summary>
    Task<AdminOutcome<AddUserResponse>> InviteUserAsync(InviteUserRequest request, CancellationToken cancellationToken);

    Task<AdminOutcome<GroupView>> AddGroupAsync(AddGroupRequest request, CancellationToken cancellationToken);

    Task<IReadOnlyList<GroupView>> ListGroupsAsync(CancellationToken cancellationToken);

    /// <summary>Replaces a group's policy (audited).</summary>
    Task<AdminOutcome<GroupView>> UpdateGroupAsync(UpdateGroupRequest request, CancellationToken cancellationToken);

    /// <summary>Creates a one-time enrolment token for a group; the token is in the answer, and only there.</summary>
    Task<AdminOutcome<EnrollmentTokenView>> CreateEnrollmentTokenAsync(CreateEnrollmentTokenRequest request, CancellationToken cancellationToken);

    Task<IReadOnlyList<HostView>> ListHostsAsync(CancellationToken cancellationToken);

    /// <summary>Revokes a host (name or id): its certificate is refused from now on and its live channel and streams close.</summary>
    Task<AdminOutcome<HostView>> RevokeHostAsync(string host, CancellationToken cancellationToken);

    /// <summary>Walks the audit trail's hash chain; names the first modified, removed or reordered event.</summary>
    Task<Audit.AuditVerification> VerifyAuditAsync(CancellationToken cancellationToken);

    /// <summary>Exports audit events (a time range and/or one session) as CSV or JSON with a detached signature.</summary>
    Task<AdminOutcome<Audit.AuditExportResult>> ExportAuditAsync(Audit.AuditExportRequest request, CancellationToken cancellationToken);

    /// <summary>The mail outbox: queued, being sent and failed mail (and sent mail with <paramref name="includeSent"/>).</summary>
    Task<MailQueueView> ListMailAsync(bool includeSent, CancellationToken cancellationToken);

    /// <summary>Sends a queued or failed mail again now.</summary>
    Task<AdminOutcome<MailView>> RetryMailAsync(string id, CancellationToken cancellationToken);

    /// <summary>Queues a test mail.</summary>
    Task<AdminOutcome<MailView>> QueueTestMailAsync(TestMailRequest request, CancellationToken cancellationToken);

    /// <summary>The browser-facing server certificate: subject, names, chain, validity, fingerprint, source.</summary>
    Task<Tls.CertificateView> ShowCertificateAsync(CancellationToken cancellationToken);

    /// <summary>Checks and imports a company server certificate; served from the next handshake on.</summary>
    Task<AdminOutcome<Tls.CertificateView>> ImportCertificateAsync(Tls.CertificateImportRequest request, CancellationToken cancellationToken);

    /// <summary>Serves the certificate before the last import again.</summary>
    Task<AdminOutcome<Tls.CertificateView>> RollbackCertificateAsync(CancellationToken cancellationToken);

    /// <summary>Sets up ACME with an internal ACME CA and installs the certificate it issues now.</summary>
    Task<AdminOutcome<Tls.CertificateView>> ObtainAcmeCertificateAsync(Tls.Acme.AcmeRequest request, CancellationToken cancellationToken);

    /// <summary>Certificate lifetimes, the audit trail, mail and ACME: what needs attention.</summary>
    Task<DoctorReport> DiagnoseAsync(CancellationToken cancellationToken);

    /// <summary>Adds a script to the library (the body, its shell, the groups whose supporters may run it).</summary>
    Task<AdminOutcome<Scripts.ScriptView>> AddScriptAsync(Scripts.AddScriptRequest request, CancellationToken cancellationToken);

    Task<IReadOnlyList<Scripts.ScriptView>> ListScriptsAsync(CancellationToken cancellationToken);

    Task<AdminOutcome<Scripts.ScriptView>> RemoveScriptAsync(string name, CancellationToken cancellationToken);
}
