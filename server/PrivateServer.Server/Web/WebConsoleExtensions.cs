using System.Globalization;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Localization;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.FileProviders;
using PrivateServer.Protocol.Files;
using PrivateServer.Protocol;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Web;

/// <summary>The browser-facing part: login, pages, embedded assets, health.</summary>
public static class WebConsoleExtensions
{
    public const string AuthCookieName = "__Host-ps-auth";
    public const string AntiforgeryCookieName = "__Host-ps-af";

    public static readonly IReadOnlyList<CultureInfo> Cultures = [new("en"), new("de")];

    public static IServiceCollection AddWebConsole(this IServiceCollection services, DataFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        services.TryAddSingleton<PasswordService>();
        services.AddSingleton<LoginService>();
        services.AddLocalization();
        services.AddRouting(options => options.LowercaseUrls = true);

        var assembly = typeof(WebConsoleExtensions).Assembly;
        services.AddRazorPages(options => options.RootDirectory = "/Web/Pages")
            .AddViewLocalization()
            .ConfigureApplicationPartManager(parts =>
            {
                // Exactly this assembly's pages, however the entry assembly was published.
                parts.ApplicationParts.Clear();
                foreach (var part in ApplicationPartFactory.GetApplicationPartFactory(assembly).GetApplicationParts(assembly))
                {
                    parts.ApplicationParts.Add(part);
                }
            });

        services.AddAntiforgery(options =>
        {
            options.Cookie.Name = AntiforgeryCookieName;
            options.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.HttpOnly = true;
        });
        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(options =>
        {
            options.Cookie.Name = AuthCookieName;
            options.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.HttpOnly = true;
            options.LoginPath = "/login";
            options.LogoutPath = "/logout";
            options.ExpireTimeSpan = TimeSpan.FromHours(8);
            options.SlidingExpiration = true;
        });
        services.AddAuthorization();

        // Cookie and antiforgery keys survive restarts; they live in the 0700 keys folder.
        SecureFile.CreatePrivateDirectory(folder.DataProtectionKeysDirectory);
        services.AddDataProtection()
            .SetApplicationName("PrivateServer")
            .PersistKeysToFileSystem(new DirectoryInfo(folder.DataProtectionKeysDirectory));
        return services;
    }

    /// <summary>Middleware of the web console, in order; call before mapping endpoints.</summary>
    public static WebApplication UseWebConsole(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseMiddleware<SecurityHeadersMiddleware>();
        app.UseRequestLocalization(new RequestLocalizationOptions
        {
            DefaultRequestCulture = new RequestCulture("en"),
            SupportedCultures = [.. Cultures],
            SupportedUICultures = [.. Cultures],
            ApplyCurrentCultureToResponseHeaders = true,
        });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new ManifestEmbeddedFileProvider(typeof(WebConsoleExtensions).Assembly, "Web/Assets"),
            RequestPath = "/assets",
        });
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    public static IEndpointRouteBuilder MapWebConsole(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var version = ProtocolInfo.ProductVersion(typeof(WebConsoleExtensions).Assembly);
        endpoints.MapGet("/healthz", () => TypedResults.Ok(new HealthReport("ok", version))).AllowAnonymous();
        endpoints.MapRazorPages();
        return endpoints;
    }

    public sealed record HealthReport(string Status, string Version);
}
