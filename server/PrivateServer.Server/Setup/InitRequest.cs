using PrivateServer.Certs.Issuance;

namespace PrivateServer.Server.Setup;

/// <summary>What <c>privateserver init</c> was asked for.</summary>
/// <param name="HostNames">Names the server certificate must cover besides localhost and the loopback addresses.</param>
/// <param name="AdminName">The first admin's user name.</param>
/// <param name="AdminPassword">The first admin's password, or null to generate one.</param>
public sealed record InitRequest(IReadOnlyList<SubjectName> HostNames, string AdminName, string? AdminPassword);

/// <summary>What <c>init</c> created: the CA fingerprint, and the admin password when it was generated.</summary>
public sealed record InitResult(string CaFingerprint, string? GeneratedAdminPassword);
