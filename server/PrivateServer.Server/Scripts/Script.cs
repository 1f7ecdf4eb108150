using System.Security.Cryptography;
using System.Text;

namespace PrivateServer.Server.Scripts;

/// <summary>
/// A script of the admins' library: what supporters of <see cref="Groups"/> may run on a host in a
/// session granted <c>scripts</c>. Supporters never send script text; they name a library script.
/// </summary>
public sealed record Script(
    string Name, string Shell, string Body, IReadOnlyList<string> Groups, TimeSpan Timeout, DateTimeOffset CreatedAt, string CreatedBy)
{
    public const string Bash = "bash";
    public const string Sh = "sh";
    public const string PowerShell = "powershell";

    public static readonly IReadOnlyList<string> Shells = [Bash, Sh, PowerShell];

    /// <summary>The largest body an admin may store.</summary>
    public const int MaximumBodyLength = 8 * 1024;

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    public static readonly TimeSpan MaximumTimeout = TimeSpan.FromHours(1);

    /// <summary>The SHA-256 of the body (UTF-8), in the audit trail with every run.</summary>
    public string Sha256 => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Body)));

    /// <summary>Whether a supporter in <paramref name="supporterGroups"/> may run it.</summary>
    public bool IsFor(IEnumerable<string> supporterGroups) =>
        supporterGroups.Any(g => Groups.Contains(g, StringComparer.OrdinalIgnoreCase));
}

/// <summary>Where the script library is kept (LiteDB now; a PostgreSQL backend can implement the same).</summary>
public interface IScriptStore
{
    Task<Script?> FindAsync(string name, CancellationToken cancellationToken);

    /// <summary>Adds the script; false when one with that name (case-insensitive) exists.</summary>
    Task<bool> TryAddAsync(Script script, CancellationToken cancellationToken);

    Task<IReadOnlyList<Script>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Removes the script; false when there was none.</summary>
    Task<bool> RemoveAsync(string name, CancellationToken cancellationToken);
}
