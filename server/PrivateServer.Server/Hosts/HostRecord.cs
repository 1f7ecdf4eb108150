namespace PrivateServer.Server.Hosts;

/// <summary>
/// An enrolled host: its id (the subject of its client certificate), the group it belongs to, the
/// certificate that proves it, and what it last announced. A revoked host keeps its record.
/// </summary>
public sealed record HostRecord(
    string Id,
    string Name,
    string Group,
    string CertificateSerial,
    string CertificateThumbprint,
    DateTimeOffset EnrolledAt,
    DateTimeOffset? LastSeen,
    string? Os,
    string? ModuleVersion,
    IReadOnlyList<string> Services,
    DateTimeOffset? RevokedAt)
{
    public bool Revoked => RevokedAt is not null;
}

/// <summary>A one-time enrolment token, kept as the SHA-256 of the token (the token itself is shown once).</summary>
public sealed record EnrollmentToken(
    string Hash, string Group, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? UsedAt, string? UsedByHost);
