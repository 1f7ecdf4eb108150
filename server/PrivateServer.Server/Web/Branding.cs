using Microsoft.AspNetCore.Http;
using PrivateServer.Server.Settings;

namespace PrivateServer.Server.Web;

/// <summary>The company's branding in the console: the logo the admin uploaded, served from the appliance itself.</summary>
internal static class Branding
{
    /// <summary>GET /branding/logo: the company logo (also on the sign-in page, so anonymous); 404 without one.</summary>
    internal static async Task<IResult> LogoAsync(SettingsService settings, HttpContext context, CancellationToken cancellationToken)
    {
        var logo = (await settings.CurrentAsync(cancellationToken)).Logo;
        if (logo is null)
        {
            return TypedResults.NotFound();
        }

        // Pages ask with ?v=<upload time>, so a new logo is a new address.
        context.Response.Headers.CacheControl = "public, max-age=86400";
        return TypedResults.Bytes(logo.Bytes, logo.ContentType);
    }
}
