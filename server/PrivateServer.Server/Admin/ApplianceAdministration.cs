namespace PrivateServer.Server.Admin;

/// <summary>The in-process admin verbs: accounts and hosts.</summary>
public sealed class ApplianceAdministration(
    AccountAdministration accounts, HostAdministration hosts, Audit.AuditTrail audit, Audit.AuditSeal seal, Audit.AuditExporter exporter) : IApplianceAdministration
{
    public Task<AdminOutcome<AddUserResponse>> AddUserAsync(AddUserRequest request, CancellationToken cancellationToken) =>
        accounts.AddUserAsync(request, cancellationToken);

    public Task<IReadOnlyList<UserView>> ListUsersAsync(CancellationToken cancellationToken) => accounts.ListUsersAsync(cancellationToken);

    public Task<AdminOutcome<GroupView>> AddGroupAsync(AddGroupRequest request, CancellationToken cancellationToken) =>
        accounts.AddGroupAsync(request, cancellationToken);

    public Task<IReadOnlyList<GroupView>> ListGroupsAsync(CancellationToken cancellationToken) => accounts.ListGroupsAsync(cancellationToken);

    public Task<AdminOutcome<EnrollmentTokenView>> CreateEnrollmentTokenAsync(CreateEnrollmentTokenRequest request, CancellationToken cancellationToken) =>
        hosts.CreateEnrollmentTokenAsync(request, cancellationToken);

    public Task<IReadOnlyList<HostView>> ListHostsAsync(CancellationToken cancellationToken) => hosts.ListHostsAsync(cancellationToken);

    public Task<AdminOutcome<HostView>> RevokeHostAsync(string host, CancellationToken cancellationToken) => hosts.RevokeHostAsync(host, cancellationToken);

    public async Task<Audit.AuditVerification> VerifyAuditAsync(CancellationToken cancellationToken) =>
        await seal.CheckAsync(await audit.VerifyAsync(cancellationToken), cancellationToken);

    public Task<AdminOutcome<Audit.AuditExportResult>> ExportAuditAsync(Audit.AuditExportRequest request, CancellationToken cancellationToken) =>
        exporter.ExportAsync(request, cancellationToken);
}
