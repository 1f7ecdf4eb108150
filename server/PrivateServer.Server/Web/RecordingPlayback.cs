using Microsoft.AspNetCore.Http;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Recording;

namespace PrivateServer.Server.Web;

/// <summary>Serves a recording to the replay page (auditors and admins); every replay is an audit event.</summary>
internal static class RecordingPlayback
{
    /// <summary>GET /audit/recordings/file?path=YYYY-MM/NAME.psrec.</summary>
    internal static async Task<IResult> FileAsync(string? path, ScreenRecordings recordings, AuditTrail audit, HttpContext context, CancellationToken cancellationToken)
    {
        var file = recordings.Find(path);
        if (file is null)
        {
            return TypedResults.NotFound();
        }

        await audit.RecordChangeAsync("recording.played", path, null, CancellationToken.None);
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.PhysicalFile(file, "application/octet-stream");
    }
}
