using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace PrivateServer.Server.Audit;

public static class AuditExtensions
{
    /// <summary>The audit trail over the stores of <c>AddStorage</c>.</summary>
    public static IServiceCollection AddAudit(this IServiceCollection services)
    {
        services.AddHttpContextAccessor();
        services.TryAddSingleton<AuditActor>();
        services.TryAddSingleton<AuditTrail>();
        services.TryAddSingleton<AuditSeal>();
        services.TryAddSingleton<AuditExporter>();
        services.AddOptions<AuditOptions>().BindConfiguration(AuditOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddHostedService<AuditSealing>();
        return services;
    }
}
