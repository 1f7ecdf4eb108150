namespace PrivateServer.Server.Auth;

public enum PasswordCheck
{
    Invalid,
    Valid,

    /// <summary>Valid, but hashed with older parameters: store a new hash.</summary>
    ValidRehashNeeded,
}
