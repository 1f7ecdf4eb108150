namespace PrivateServer.Server.Accounts;

/// <summary>A group of supporters and hosts sharing one policy.</summary>
public sealed record Group(string Name, UnattendedConsent UnattendedConsent, DateTimeOffset CreatedAt);
