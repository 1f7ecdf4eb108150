namespace PrivateServer.Server.Accounts;

/// <summary>What a user account may do on the appliance.</summary>
public enum Role
{
    /// <summary>Manages users, groups, hosts, certificates and settings.</summary>
    Admin,

    /// <summary>Connects to the hosts of its groups and helps customers ad hoc.</summary>
    Supporter,

    /// <summary>Reads and exports protocols; opens no session.</summary>
    Auditor,
}
