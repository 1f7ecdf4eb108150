using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Broker;
using PrivateServer.Server.Hosts;
using PrivateServer.Server.Storage;
using PrivateServer.Server.Tls;
using PrivateServer.Server.Tls.Acme;

namespace PrivateServer.Server.Admin;

/// <summary>The admin API, answered only on the admin socket (404 on every network endpoint).</summary>
public static class AdminEndpoints
{
    public const string Prefix = "/admin/v1";

    public static IServiceCollection AddAdministration(this IServiceCollection services)
    {
        services.AddSignIn();
        services.TryAddSingleton<PasswordLinks>();
        services.AddSingleton<AccountAdministration>();
        services.TryAddSingleton<HostPresence>();
        services.AddSingleton(sp => new HostAdministration(
            sp.GetRequiredService<IHostStore>(), sp.GetRequiredService<IGroupStore>(), sp.GetRequiredService<HostPresence>(),
            sp.GetRequiredService<AuditTrail>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<HostAdministration>>(),
            sp.GetService<HostCertificateValidator>()));
        services.TryAddSingleton(sp => new CertificateAdministration(
            sp.GetRequiredService<DataFolder>(), sp.GetRequiredService<AuditTrail>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<CertificateAdministration>>(), sp.GetService<ServerCertificateStore>()));
        services.AddOptions<AcmeOptions>().BindConfiguration(AcmeOptions.SectionName);
        services.TryAddSingleton<AcmeCertificates>();
        services.TryAddSingleton<ApplianceDoctor>();
        services.TryAddSingleton<Scripts.ScriptAdministration>();
        services.TryAddSingleton<Auth.UserRevocation>();
        services.AddSingleton<IApplianceAdministration, ApplianceAdministration>();
        return services;
    }

    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup(Prefix).AddEndpointFilter(async (context, next) =>
            AdminSocket.IsAdminSocketRequest(context.HttpContext) ? await next(context) : TypedResults.NotFound());

        admin.MapPost("/users", async Task<Results<Created<AddUserResponse>, ProblemHttpResult>> (
            AddUserRequest request, IApplianceAdministration administration, CancellationToken cancellationToken) =>
        {
            var outcome = await administration.AddUserAsync(request, cancellationToken);
            return outcome.Value is { } created ? TypedResults.Created($"{Prefix}/users/{created.Name}", created) : Problem(outcome.Failure!);
        });
        admin.MapPost("/users/{name}/invite", async Task<Results<Ok<AddUserResponse>, ProblemHttpResult>> (
            string name, InviteUserRequest request, IApplianceAdministration administration, CancellationToken cancellationToken) =>
            Answer(await administration.InviteUserAsync(request with { Name = name }, cancellationToken)));
        admin.MapGet("/users", async (IApplianceAdministration administration, CancellationToken cancellationToken) =>
            TypedResults.Ok(await administration.ListUsersAsync(cancellationToken)));
        admin.MapPost("/users/{name}/sign-out", async Task<Results<Ok<UserView>, ProblemHttpResult>> (
            string name, IApplianceAdministration administration, CancellationToken cancellationToken) =>
            Answer(await administration.SignOutUserAsync(name, cancellationToken)));
        admin.MapPost("/users/{name}/reset-two-factor", async Task<Results<Ok<UserView>, ProblemHttpResult>> (
            string name, IApplianceAdministration administration, CancellationToken cancellationToken) =>
            Answer(await administration.ResetTwoFactorAsync(name, cancellationToken)));
        admin.MapGet("/login-locks", async (IApplianceAdministration administration, CancellationToken cancellationToken) =>
            TypedResults.Ok(await administration.ListLoginLocksAsync(cancellationToken)));
        admin.MapPost("/login-locks/{subject}/unlock", async Task<Results<Ok<LoginLockView>, ProblemHttpResult>> (
            string subject, IApplianceAdministration administration, CancellationToken cancellationToken) =>
            Answer(await administration.UnlockLoginAsync(subject, cancellationToken)));

        admin.MapPost("/groups", async Task<Results<Created<GroupView>, ProblemHttpResult>> (
            AddGroupRequest request, IApplianceAdministration administration, CancellationToken cancellationToken) =>
        {
            var outcome = await administration.AddGroupAsync(request, cancellationToken);
            return outcome.Value is { } created ? TypedResults.Created($"{Prefix}/groups/{created.Name}", created) : Problem(outcome.Failure!);
        });
        admin.MapGet("/groups", async (IApplianceAdministration administration, CancellationToken cancellationToken) =>
            TypedResults.Ok(await administration.ListGroupsAsync(cancellationToken)));
        admin.MapPost("/groups/{name}/policy", async Task<Results<Ok<GroupView>, ProblemHttpResult>> (
            string name, UpdateGroupRequest request, IApplianceAdministration administration, CancellationToken cancellationToken) =>
            Answer(await administration.UpdateGroupAsync(request with { Name = name }, cancellationToken)));

        admin.MapPost("/enrollment-tokens", async Task<Results<Created<EnrollmentTokenView>, ProblemHttpResult>> (
            CreateEnrollmentTokenRequest request, IApplianceAdministration administration, CancellationToken cancellationToken) =>
        {
            var outcome = await administration.CreateEnrollmentTokenAsync(request, cancellationToken);
            return outcome.Value is { } created ? TypedResults.Created($"{Prefix}/enrollment-tokens", created) : Problem(outcome.Failure!);
        });
        admin.MapGet("/hosts", async (IApplianceAdministration administration, CancellationToken cancellationToken) =>
            TypedResults.Ok(await administration.ListHostsAsync(cancellationToken)));
        admin.MapPost("/hosts/{host}/revoke", async Task<Results<Ok<HostView>, ProblemHttpResult>> (
            string host, IApplianceAdministration administration, CancellationToken cancellationToken) =>
            Answer(await administration.RevokeHostAsync(host, cancellationToken)));
        admin.MapGet("/audit/verify", async (IApplianceAdministration administration, CancellationToken cancellationToken) =>
            TypedResults.Ok(await administration.VerifyAuditAsync(cancellationToken)));
        admin.MapPost("/audit/export", async Task<Results<Ok<AuditExportResult>, ProblemHttpResult>> (
            AuditExportRequest request, IApplianceAdministration administration, CancellationToken cancellationToken) =>
            Answer(await administration.ExportAuditAsync(request, cancellationToken)));

        admin.MapGet("/mail", async (bool? all, IApplianceAdministration administration, CancellationToken cancellationToken) =>
            TypedResults.Ok(await administration.ListMailAsync(all ?? false, cancellationToken)));
        admin.MapPost("/mail/test", async Task<Results<Ok<MailView>, ProblemHttpResult>> (
            TestMailRequest request, IApplianceAdministration administration, CancellationToken cancellationToken) =>
            Answer(await administration.QueueTestMailAsync(request, cancellationToken)));
        admin.MapPost("/mail/{id}/retry", async Task<Results<Ok<MailView>, ProblemHttpResult>> (
            string id, IApplianceAdministration administration, CancellationToken cancellationToken) =>
            Answer(await administration.RetryMailAsync(id, cancellationToken)));

        admin.MapGet("/doctor", async (IApplianceAdministration administration, CancellationToken cancellationToken) =>
            TypedResults.Ok(await administration.DiagnoseAsync(cancellationToken)));
        admin.MapGet("/certificate", async (IApplianceAdministration administration, CancellationToken cancellationToken) =>
            TypedResults.Ok(await administration.ShowCertificateAsync(cancellationToken)));
        admin.MapPost("/certificate/import", async Task<Results<Ok<CertificateView>, ProblemHttpResult>> (
            CertificateImportRequest request, IApplianceAdministration administration, CancellationToken cancellationToken) =>
            Answer(await administration.ImportCertificateAsync(request, cancellationToken)));
        admin.MapPost("/certificate/acme", async Task<Results<Ok<CertificateView>, ProblemHttpResult>> (
            AcmeRequest request, IApplianceAdministration administration, CancellationToken cancellationToken) =>
            Answer(await administration.ObtainAcmeCertificateAsync(request, cancellationToken)));
        admin.MapPost("/certificate/rollback", async Task<Results<Ok<CertificateView>, ProblemHttpResult>> (
            IApplianceAdministration administration, CancellationToken cancellationToken) =>
            Answer(await administration.RollbackCertificateAsync(cancellationToken)));
        admin.MapPost("/scripts", async Task<Results<Ok<Scripts.ScriptView>, ProblemHttpResult>> (
            Scripts.AddScriptRequest request, IApplianceAdministration administration, CancellationToken cancellationToken) =>
            Answer(await administration.AddScriptAsync(request, cancellationToken)));
        admin.MapGet("/scripts", async (IApplianceAdministration administration, CancellationToken cancellationToken) =>
            TypedResults.Ok(await administration.ListScriptsAsync(cancellationToken)));
        admin.MapPost("/scripts/{name}/remove", async Task<Results<Ok<Scripts.ScriptView>, ProblemHttpResult>> (
            string name, IApplianceAdministration administration, CancellationToken cancellationToken) =>
            Answer(await administration.RemoveScriptAsync(name, cancellationToken)));

        return endpoints;
    }

    /// <summary>The outcome's value (200), or its failure as a problem document.</summary>
    private static Results<Ok<T>, ProblemHttpResult> Answer<T>(AdminOutcome<T> outcome)
        where T : class =>
        outcome.Value is { } value ? TypedResults.Ok(value) : Problem(outcome.Failure!);

    private static ProblemHttpResult Problem(AdminFailure failure) =>
        TypedResults.Problem(detail: failure.Message, statusCode: failure.Kind switch
        {
            AdminFailureKind.NotFound => StatusCodes.Status404NotFound,
            AdminFailureKind.Conflict => StatusCodes.Status409Conflict,
            _ => StatusCodes.Status400BadRequest,
        });
}
