using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Microsoft.AspNetCore.Mvc;
using PrivateServer.Server.Admin;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Tls;

namespace PrivateServer.Appliance.Cli;

/// <summary>The admin verbs against a running server, over its admin socket (HTTP/1.1 on a Unix socket).</summary>
internal sealed class AdminSocketClient : IApplianceAdministration, IDisposable
{
    private readonly HttpClient _http;

    public AdminSocketClient(string socketPath)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        _http = new HttpClient(handler) { BaseAddress = new Uri("http://admin.socket" + AdminEndpoints.Prefix + "/") };
    }

    public Task<AdminOutcome<AddUserResponse>> AddUserAsync(AddUserRequest request, CancellationToken cancellationToken) =>
        PostAsync<AddUserRequest, AddUserResponse>("users", request, cancellationToken);

    public Task<AdminOutcome<AddUserResponse>> InviteUserAsync(InviteUserRequest request, CancellationToken cancellationToken) =>
        PostAsync<InviteUserRequest, AddUserResponse>("users/" + Uri.EscapeDataString(request.Name) + "/invite", request, cancellationToken);

    public Task<IReadOnlyList<UserView>> ListUsersAsync(CancellationToken cancellationToken) =>
        GetListAsync<UserView>("users", cancellationToken);

    public Task<AdminOutcome<UserView>> SignOutUserAsync(string name, CancellationToken cancellationToken) =>
        PostAsync<object, UserView>("users/" + Uri.EscapeDataString(name) + "/sign-out", new { }, cancellationToken);

    public Task<AdminOutcome<UserView>> ResetTwoFactorAsync(string name, CancellationToken cancellationToken) =>
        PostAsync<object, UserView>("users/" + Uri.EscapeDataString(name) + "/reset-two-factor", new { }, cancellationToken);

    public Task<IReadOnlyList<LoginLockView>> ListLoginLocksAsync(CancellationToken cancellationToken) =>
        GetListAsync<LoginLockView>("login-locks", cancellationToken);

    public Task<AdminOutcome<LoginLockView>> UnlockLoginAsync(string subject, CancellationToken cancellationToken) =>
        PostAsync<object, LoginLockView>("login-locks/" + Uri.EscapeDataString(subject) + "/unlock", new { }, cancellationToken);

    public Task<AdminOutcome<GroupView>> AddGroupAsync(AddGroupRequest request, CancellationToken cancellationToken) =>
        PostAsync<AddGroupRequest, GroupView>("groups", request, cancellationToken);

    public Task<AdminOutcome<GroupView>> UpdateGroupAsync(UpdateGroupRequest request, CancellationToken cancellationToken) =>
        PostAsync<UpdateGroupRequest, GroupView>("groups/" + Uri.EscapeDataString(request.Name) + "/policy", request, cancellationToken);

    public Task<IReadOnlyList<GroupView>> ListGroupsAsync(CancellationToken cancellationToken) =>
        GetListAsync<GroupView>("groups", cancellationToken);

    public Task<AdminOutcome<EnrollmentTokenView>> CreateEnrollmentTokenAsync(CreateEnrollmentTokenRequest request, CancellationToken cancellationToken) =>
        PostAsync<CreateEnrollmentTokenRequest, EnrollmentTokenView>("enrollment-tokens", request, cancellationToken);

    public Task<IReadOnlyList<HostView>> ListHostsAsync(CancellationToken cancellationToken) =>
        GetListAsync<HostView>("hosts", cancellationToken);

    public Task<AdminOutcome<HostView>> RevokeHostAsync(string host, CancellationToken cancellationToken) =>
        PostAsync<object, HostView>("hosts/" + Uri.EscapeDataString(host) + "/revoke", new { }, cancellationToken);

    public Task<AuditVerification> VerifyAuditAsync(CancellationToken cancellationToken) => GetAsync<AuditVerification>("audit/verify", cancellationToken);

    public Task<AdminOutcome<AuditExportResult>> ExportAuditAsync(AuditExportRequest request, CancellationToken cancellationToken) =>
        PostAsync<AuditExportRequest, AuditExportResult>("audit/export", request, cancellationToken);

    public Task<MailQueueView> ListMailAsync(bool includeSent, CancellationToken cancellationToken) =>
        GetAsync<MailQueueView>(includeSent ? "mail?all=true" : "mail", cancellationToken);

    public Task<AdminOutcome<MailView>> RetryMailAsync(string id, CancellationToken cancellationToken) =>
        PostAsync<object, MailView>("mail/" + Uri.EscapeDataString(id) + "/retry", new { }, cancellationToken);

    public Task<AdminOutcome<MailView>> QueueTestMailAsync(TestMailRequest request, CancellationToken cancellationToken) =>
        PostAsync<TestMailRequest, MailView>("mail/test", request, cancellationToken);

    public Task<DoctorReport> DiagnoseAsync(CancellationToken cancellationToken) => GetAsync<DoctorReport>("doctor", cancellationToken);

    public Task<CertificateView> ShowCertificateAsync(CancellationToken cancellationToken) => GetAsync<CertificateView>("certificate", cancellationToken);

    public Task<AdminOutcome<CertificateView>> ImportCertificateAsync(CertificateImportRequest request, CancellationToken cancellationToken) =>
        PostAsync<CertificateImportRequest, CertificateView>("certificate/import", request, cancellationToken);

    public Task<AdminOutcome<CertificateView>> ObtainAcmeCertificateAsync(PrivateServer.Server.Tls.Acme.AcmeRequest request, CancellationToken cancellationToken) =>
        PostAsync<PrivateServer.Server.Tls.Acme.AcmeRequest, CertificateView>("certificate/acme", request, cancellationToken);

    public Task<AdminOutcome<PrivateServer.Server.Scripts.ScriptView>> AddScriptAsync(PrivateServer.Server.Scripts.AddScriptRequest request, CancellationToken cancellationToken) =>
        PostAsync<PrivateServer.Server.Scripts.AddScriptRequest, PrivateServer.Server.Scripts.ScriptView>("scripts", request, cancellationToken);

    public Task<IReadOnlyList<PrivateServer.Server.Scripts.ScriptView>> ListScriptsAsync(CancellationToken cancellationToken) =>
        GetListAsync<PrivateServer.Server.Scripts.ScriptView>("scripts", cancellationToken);

    public Task<AdminOutcome<PrivateServer.Server.Scripts.ScriptView>> RemoveScriptAsync(string name, CancellationToken cancellationToken) =>
        PostAsync<object, PrivateServer.Server.Scripts.ScriptView>("scripts/" + Uri.EscapeDataString(name) + "/remove", new { }, cancellationToken);

    public Task<AdminOutcome<CertificateView>> RollbackCertificateAsync(CancellationToken cancellationToken) =>
        PostAsync<object, CertificateView>("certificate/rollback", new { }, cancellationToken);

    public void Dispose() => _http.Dispose();

    private async Task<AdminOutcome<TResponse>> PostAsync<TRequest, TResponse>(string path, TRequest request, CancellationToken cancellationToken)
        where TResponse : class
    {
        using var response = await _http.PostAsJsonAsync(path, request, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return AdminOutcome.Success(await ReadAsync<TResponse>(response, cancellationToken));
        }

        var problem = response.Content.Headers.ContentType?.MediaType is "application/problem+json" or "application/json"
            ? await response.Content.ReadFromJsonAsync<ProblemDetails>(cancellationToken)
            : null;
        var kind = response.StatusCode switch
        {
            HttpStatusCode.NotFound => AdminFailureKind.NotFound,
            HttpStatusCode.Conflict => AdminFailureKind.Conflict,
            HttpStatusCode.BadRequest => AdminFailureKind.Invalid,
            _ => throw new CommandFailedException(
                $"the running server answered {(int)response.StatusCode}: {problem?.Detail ?? problem?.Title ?? "see its log in the data folder's logs/"}"),
        };
        return AdminOutcome.Fail<TResponse>(kind, problem?.Detail ?? response.ReasonPhrase ?? "refused");
    }

    private async Task<IReadOnlyList<T>> GetListAsync<T>(string path, CancellationToken cancellationToken) =>
        await GetAsync<List<T>>(path, cancellationToken);

    private async Task<T> GetAsync<T>(string path, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(path, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new CommandFailedException($"the running server answered {(int)response.StatusCode} to {path}");
        }

        return await ReadAsync<T>(response, cancellationToken);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken) =>
        await response.Content.ReadFromJsonAsync<T>(cancellationToken)
            ?? throw new CommandFailedException("the running server sent an empty answer");
}
