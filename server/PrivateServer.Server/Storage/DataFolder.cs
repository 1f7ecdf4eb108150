namespace PrivateServer.Server.Storage;

/// <summary>
/// The appliance's one data folder and what lives in it. Everything the appliance persists is
/// below <see cref="Root"/>, so a backup is one folder and the keys sit in one protected place.
/// </summary>
public sealed class DataFolder
{
    public DataFolder(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }

    public string DatabasePath => Path.Combine(Root, "privateserver.db");

    /// <summary>Held exclusively by the one process that has the database open (LiteDB itself only takes a shared lock).</summary>
    public string LockPath => Path.Combine(Root, "privateserver.lock");

    public string KeysDirectory => Path.Combine(Root, "keys");

    /// <summary>The LiteDB password (random, mode 0600).</summary>
    public string DatabaseKeyPath => Path.Combine(KeysDirectory, "db.key");

    /// <summary>The random master key that encrypts the private keys below at rest (mode 0600).</summary>
    public string MasterKeyPath => Path.Combine(KeysDirectory, "master.key");

    public string DataProtectionKeysDirectory => Path.Combine(KeysDirectory, "dataprotection");

    public string CaCertificatePath => Path.Combine(Root, "ca", "ca.crt");

    public string CaKeyPath => Path.Combine(Root, "ca", "ca.key");

    public string ServerCertificatePath => Path.Combine(Root, "tls", "server.crt");

    public string ServerKeyPath => Path.Combine(Root, "tls", "server.key");

    /// <summary>Where the server certificate came from: appliance-ca, imported or acme (one word).</summary>
    public string ServerCertificateSourcePath => Path.Combine(Root, "tls", "server.source");

    /// <summary>The server certificate before the last import (what <c>cert rollback</c> restores), with its key and source.</summary>
    public string PreviousServerCertificatePath => Path.Combine(Root, "tls", "previous", "server.crt");

    public string PreviousServerKeyPath => Path.Combine(Root, "tls", "previous", "server.key");

    public string PreviousServerCertificateSourcePath => Path.Combine(Root, "tls", "previous", "server.source");

    /// <summary>The appliance's host names (one per line, from <c>init --hostname</c>): every imported certificate must name them.</summary>
    public string HostNamesPath => Path.Combine(Root, "tls", "hostnames");

    /// <summary>The certificate modules see (TLS server name modules.privateserver.invalid), issued by the appliance CA.</summary>
    public string ModuleCertificatePath => Path.Combine(Root, "tls", "module.crt");

    public string ModuleKeyPath => Path.Combine(Root, "tls", "module.key");

    public string LogsDirectory => Path.Combine(Root, "logs");

    /// <summary>Where an unattended first start (<c>run --init</c>, the Debian postinst) leaves the generated admin password (owner only).</summary>
    public string InitialAdminPasswordPath => Path.Combine(Root, "initial-admin-password");

    /// <summary>The audit signing certificate (issued by the appliance CA at first use) and its encrypted key.</summary>
    public string AuditSigningCertificatePath => Path.Combine(Root, "audit", "signing.crt");

    public string AuditSigningKeyPath => Path.Combine(Root, "audit", "signing.key");

    /// <summary>The local admin socket of a running server (Unix domain socket, mode 0600).</summary>
    public string AdminSocketPath => Path.Combine(Root, "admin.sock");

    /// <summary>True once <c>init</c> has written anything that a second <c>init</c> must not overwrite.</summary>
    public bool IsInitialised =>
        File.Exists(DatabasePath) || File.Exists(CaCertificatePath) || File.Exists(DatabaseKeyPath) || File.Exists(MasterKeyPath);

    /// <summary>Throws a <see cref="DataFolderException"/> unless the folder was initialised.</summary>
    public void EnsureInitialised()
    {
        if (!File.Exists(DatabasePath))
        {
            throw new DataFolderException($"the data folder {Root} is not initialised; run 'privateserver init --data {Root}' first");
        }
    }

    public string ReadMasterKey() => ReadKey(MasterKeyPath, "private keys");

    public string ReadDatabaseKey() => ReadKey(DatabaseKeyPath, "the database");

    private static string ReadKey(string path, string purpose)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DataFolderException($"cannot read {path}, the key for {purpose}: {ex.Message}", ex);
        }
    }
}
