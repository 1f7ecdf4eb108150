using System.Runtime.Versioning;
using System.Security.AccessControl;
using System.Security.Cryptography;
using System.Security.Principal;
using System.Text;

namespace PrivateServer.Protocol.Files;

/// <summary>
/// Writes files that hold secrets: readable by the owner only (0600, folders 0700) and replaced
/// atomically (temporary file, flushed, then renamed), so a crash never leaves half a key.
/// </summary>
public static class SecureFile
{
    private const UnixFileMode OwnerFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerDirectory = OwnerFile | UnixFileMode.UserExecute;

    public static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            if (!Directory.Exists(path))
            {
                // The ACL goes on the folder itself; its parents (ProgramData\PrivateServer) keep theirs.
                var folder = new DirectoryInfo(path);
                if (folder.Parent is { } parent)
                {
                    parent.Create();
                }

                folder.Create(OwnerOnly());
            }
        }
        else
        {
            Directory.CreateDirectory(path, OwnerDirectory);
        }
    }

    /// <summary>Windows' 0700: full control for SYSTEM, Administrators and this account only, not inherited from ProgramData (where Users may read).</summary>
    [SupportedOSPlatform("windows")]
    private static DirectorySecurity OwnerOnly()
    {
        var security = new DirectorySecurity();
        security.SetAccessRuleProtection(isProtected: true, preserveInheritance: false);
        using var current = WindowsIdentity.GetCurrent();
        var owners = new[]
        {
            new SecurityIdentifier(WellKnownSidType.LocalSystemSid, null),
            new SecurityIdentifier(WellKnownSidType.BuiltinAdministratorsSid, null),
            current.User ?? new SecurityIdentifier(WellKnownSidType.LocalSystemSid, null),
        };
        foreach (var owner in owners.Distinct())
        {
            security.AddAccessRule(new FileSystemAccessRule(
                owner, FileSystemRights.FullControl, InheritanceFlags.ContainerInherit | InheritanceFlags.ObjectInherit, PropagationFlags.None, AccessControlType.Allow));
        }

        return security;
    }

    public static void WriteAllText(string path, string contents) => WriteAllBytes(path, Encoding.UTF8.GetBytes(contents));

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> contents)
    {
        var directory = Path.GetDirectoryName(path) ?? throw new ArgumentException("The path has no folder.", nameof(path));
        CreatePrivateDirectory(directory);
        var temporary = path + ".tmp-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerFile;
        }

        try
        {
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(contents);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
