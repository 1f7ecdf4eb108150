namespace PrivateServer.Server.Accounts;

/// <summary>A person who signs in: admin, supporter or auditor.</summary>
public sealed record User(
    string Name,
    Role Role,
    IReadOnlyList<string> Groups,
    string? Email,
    string PasswordHash,
    bool Disabled,
    DateTimeOffset CreatedAt);
