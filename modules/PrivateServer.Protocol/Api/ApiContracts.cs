namespace PrivateServer.Protocol.Api;

// The request/response bodies of the module API (/api/v1), shared by server and modules.

/// <summary>A host enrols: the one-time token, its chosen name and a PKCS#10 request (PEM) for its own key.</summary>
public sealed record EnrollRequest(string Token, string Name, string CertificateRequestPem);

/// <summary>The host's identity: its id (the certificate subject), the issued certificate and the CA (PEM).</summary>
public sealed record EnrollResponse(string HostId, string Name, string Group, string CertificatePem, string CaCertificatePem);

/// <summary>A supporter signs in with name and password.</summary>
/// <param name="User">The account name.</param>
/// <param name="Password">The account's password.</param>
/// <param name="Totp">The current code of the user's authenticator app, or one of their recovery codes (accounts with a second factor).</param>
public sealed record TokenRequest(string User, string Password, string? Totp = null);

/// <summary>A short-lived bearer token for the module API.</summary>
public sealed record TokenResponse(string Token, DateTimeOffset ExpiresAt, string User, string Role);

/// <summary>A host as a supporter or admin sees it.</summary>
public sealed record HostSummary(
    string Id, string Name, string Group, bool Online, DateTimeOffset? LastSeen, string? Os, string? ModuleVersion,
    IReadOnlyList<string> Services, bool Revoked);

/// <summary>Asks for a session code to be mailed to the customer at <see cref="Email"/> (in <see cref="Language"/>, de or en) as well.</summary>
public sealed record SessionCodeRequest(string? Email, string? Language);

/// <summary>A new ad-hoc session code (8 digits), when it expires unless a customer joins with it first, and the mail's id if it was mailed.</summary>
public sealed record SessionCodeResponse(string Code, DateTimeOffset ExpiresAt, string? Mail = null);

/// <summary>A customer waiting in the queue: the request's id, the computer's name, what they wrote, the group, since when.</summary>
public sealed record WaitingRequest(string Id, string Name, string Text, string? Group, DateTimeOffset Since);

/// <summary>The body of every refusal (RFC 9457 problem details; only the fields modules read).</summary>
public sealed record ApiProblem(string? Title, string? Detail, int? Status);
