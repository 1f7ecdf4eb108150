using Microsoft.AspNetCore.Http;
using PrivateServer.Server.Admin;

namespace PrivateServer.Server.Audit;

/// <summary>
/// Who is acting right now, for audit events of admin changes: the signed-in web user, or
/// <see cref="LocalAdmin"/> for the command line (over the admin socket, or on the database directly).
/// </summary>
public sealed class AuditActor(IHttpContextAccessor accessor)
{
    /// <summary>Whoever may use the admin socket or the data folder: root or the service account.</summary>
    public const string LocalAdmin = "local-admin";

    public string Current => accessor.HttpContext switch
    {
        null => LocalAdmin,
        { } context when AdminSocket.IsAdminSocketRequest(context) => LocalAdmin,
        { User.Identity: { IsAuthenticated: true, Name: { } name } } => name,
        _ => "anonymous",
    };

    /// <summary>The address the current request came from, if any.</summary>
    public string? Source => accessor.HttpContext is { } context && !AdminSocket.IsAdminSocketRequest(context)
        ? context.Connection.RemoteIpAddress?.ToString()
        : null;
}
