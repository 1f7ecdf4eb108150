namespace PrivateServer.Server.Accounts;

/// <summary>A person who signs in: admin, supporter or auditor.</summary>
public sealed record User(
    string Name,
    Role Role,
    IReadOnlyList<string> Groups,
    string? Email,
    string PasswordHash,
    bool Disabled,
    DateTimeOffset CreatedAt)
{
    /// <summary>The user's authenticator (TOTP) and recovery codes, or null when they sign in with a password alone.</summary>
    public TwoFactorEnrolment? TwoFactor { get; init; }
}

/// <summary>
/// A second sign-in factor: the TOTP secret (Base32, as the authenticator app holds it), the last
/// 30-second step a code was accepted for (a code works once), and the PBKDF2 hashes of the unused
/// recovery codes (the codes themselves are shown once and never stored).
/// </summary>
public sealed record TwoFactorEnrolment(string Secret, DateTimeOffset EnrolledAt, long LastStep, IReadOnlyList<string> RecoveryCodeHashes);
