using System.Globalization;
using Microsoft.AspNetCore.Authentication;
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
using PrivateServer.Server.Web.Console;
using PrivateServer.Server.Web.Profile;

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
        services.AddSignIn();
        services.TryAddSingleton<UserRevocation>();
        services.AddSingleton<WebUsers>();
        services.AddSingleton<SignIn.PendingSignIns>();
        services.AddSingleton<ProfilePictures>();
        services.AddLocalization();
        services.AddRouting(options => options.LowercaseUrls = true);

        var assembly = typeof(WebConsoleExtensions).Assembly;
        services.AddRazorPages(options =>
            {
                options.RootDirectory = "/Web/Pages";
                // Every page needs a signed-in user unless it says otherwise; each area its role.
                options.Conventions.AuthorizeFolder("/");
                options.Conventions.AuthorizeFolder("/Console", WebUsers.SupporterPolicy);
                options.Conventions.AuthorizeFolder("/Admin", WebUsers.AdminPolicy);
                options.Conventions.AuthorizeFolder("/Audit", WebUsers.AuditorPolicy);
            })
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
            options.AccessDeniedPath = "/denied";
            options.ExpireTimeSpan = TimeSpan.FromHours(8);
            options.SlidingExpiration = true;
            options.Events.OnValidatePrincipal = async context =>
            {
                // A disabled user, or one whose role changed, is signed out at the next request.
                var users = context.HttpContext.RequestServices.GetRequiredService<WebUsers>();
                if (context.Principal is null || await users.ValidateAsync(context.HttpContext, context.Principal, context.HttpContext.RequestAborted) is null)
                {
                    context.RejectPrincipal();
                    await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
                }
            };
            // Scripts calling /web get status codes, not a login page.
            options.Events.OnRedirectToLogin = context => Answer(context, StatusCodes.Status401Unauthorized);
            options.Events.OnRedirectToAccessDenied = context => Answer(context, StatusCodes.Status403Forbidden);
        });
        services.AddAuthorizationBuilder()
            .AddPolicy(WebUsers.SupporterPolicy, policy => policy.RequireRole("supporter", "admin"))
            .AddPolicy(WebUsers.AdminPolicy, policy => policy.RequireRole("admin"))
            .AddPolicy(WebUsers.AuditorPolicy, policy => policy.RequireRole("auditor", "admin"));

        // Cookie and antiforgery keys survive restarts; they live in the 0700 keys folder.
        SecureFile.CreatePrivateDirectory(folder.DataProtectionKeysDirectory);
        services.AddDataProtection()
            .SetApplicationName("PrivateServer")
            .PersistKeysToFileSystem(new DirectoryInfo(folder.DataProtectionKeysDirectory));
        return services;
    }

    private static Task Answer(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        if (context.Request.Path.StartsWithSegments(Console.ConsoleEndpoints.Prefix, StringComparison.OrdinalIgnoreCase))
        {
            context.Response.StatusCode = status;
        }
        else
        {
            context.Response.Redirect(context.RedirectUri);
        }

        return Task.CompletedTask;
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
        endpoints.MapConsoleEndpoints();
        endpoints.MapGet("/profile/picture/{name}", ProfilePictures.PictureAsync).RequireAuthorization();
        endpoints.MapGet("/branding/logo", Branding.LogoAsync).AllowAnonymous();
        endpoints.MapGet("/audit/recordings/file", RecordingPlayback.FileAsync).RequireAuthorization(WebUsers.AuditorPolicy);
        return endpoints;
    }

    public sealed record HealthReport(string Status, string Version);
}
