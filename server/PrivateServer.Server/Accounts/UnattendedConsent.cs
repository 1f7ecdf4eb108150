namespace PrivateServer.Server.Accounts;

/// <summary>A group's policy for sessions on its unattended hosts.</summary>
public enum UnattendedConsent
{
    /// <summary>The host's user is asked every time (the default).</summary>
    Ask,

    /// <summary>The session is granted without asking; the bypass is recorded.</summary>
    Auto,
}
