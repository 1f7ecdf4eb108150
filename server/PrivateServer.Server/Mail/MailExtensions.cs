using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Mail;

public static class MailExtensions
{
    /// <summary>The outbox queue (over the stores of <c>AddStorage</c>); with <paramref name="deliver"/> also the background sender.</summary>
    public static IServiceCollection AddMail(this IServiceCollection services, bool deliver)
    {
        var mailOptions = services.AddOptions<MailOptions>().BindConfiguration(MailOptions.SectionName).ValidateDataAnnotations();
        services.TryAddSingleton<MailWakeup>();
        services.TryAddSingleton(sp => new PublicAddress(sp.GetRequiredService<DataFolder>(), sp.GetService<IConfiguration>()));
        services.TryAddSingleton<MailSettings>();
        services.TryAddSingleton<Mailer>();
        services.TryAddSingleton<SessionProtocolMail>();
        if (deliver)
        {
            mailOptions.ValidateOnStart();
            services.AddHostedService<MailSender>();
            services.TryAddSingleton<CertificateWarnings>();
            services.AddHostedService(sp => sp.GetRequiredService<CertificateWarnings>());
        }

        return services;
    }
}
