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

/// <summary>
/// An enrolment token that up to <see cref="MaxUses"/> hosts may redeem, kept as the SHA-256 of the
/// token (the token itself is shown once). <see cref="Uses"/> counts redemptions; the first and the
/// last host that used it are kept, not every one, so the record stays small for a mass rollout.
/// </summary>
public sealed record EnrollmentToken(
    string Hash,
    string Group,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    int MaxUses,
    int Uses,
    string? FirstUsedByHost,
    DateTimeOffset? UsedAt,
    string? UsedByHost)
{
    public bool UsedUp => Uses >= MaxUses;
}
