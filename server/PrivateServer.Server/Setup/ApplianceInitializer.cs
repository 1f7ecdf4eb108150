using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using PrivateServer.Certs.Authority;
using PrivateServer.Certs.Issuance;
using PrivateServer.Protocol.Files;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Admin;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Storage;
using PrivateServer.Server.Tls;

namespace PrivateServer.Server.Setup;

/// <summary>
/// Turns an empty data folder into an appliance: keys, CA, server certificate, database, first
/// admin. Refuses an initialised folder; on any failure removes what it wrote, so a second
/// attempt starts clean.
/// </summary>
public sealed class ApplianceInitializer(TimeProvider time)
{
    public static readonly TimeSpan ServerCertificateValidity = ServerCertificatePolicy.MaximumValidity;

    public async Task<InitResult> InitialiseAsync(DataFolder folder, InitRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(request);
        if (folder.IsInitialised)
        {
            throw new DataFolderException($"the data folder {folder.Root} is already initialised; nothing was changed");
        }

        if (!AccountName.IsValid(request.AdminName))
        {
            throw new ArgumentException($"'{request.AdminName}' is not a valid user name", nameof(request));
        }

        if (request.AdminPassword is { } chosen && PasswordService.PolicyViolation(chosen, request.AdminName) is { } violation)
        {
            throw new ArgumentException(violation, nameof(request));
        }

        var written = new[]
        {
            folder.DatabasePath, folder.LockPath, folder.DatabaseKeyPath, folder.MasterKeyPath, folder.CaCertificatePath,
            folder.CaKeyPath, folder.ServerCertificatePath, folder.ServerKeyPath,
        };
        try
        {
            SecureFile.CreatePrivateDirectory(folder.Root);
            return await WriteEverythingAsync(folder, request, cancellationToken);
        }
        catch
        {
            foreach (var path in written)
            {
                File.Delete(path);
            }

            throw;
        }
    }

    private async Task<InitResult> WriteEverythingAsync(DataFolder folder, InitRequest request, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var masterKey = NewKey();
        var databaseKey = NewKey();
        SecureFile.WriteAllText(folder.MasterKeyPath, masterKey + "\n");
        SecureFile.WriteAllText(folder.DatabaseKeyPath, databaseKey + "\n");

        var names = ServerCertificatePolicy.WithLoopbackNames(request.HostNames);
        using var authority = ApplianceAuthority.Create($"PrivateServer Appliance CA ({names[0].Value}, {now:yyyy-MM-dd})", now);
        SecureFile.WriteAllText(folder.CaCertificatePath, authority.Certificate.ExportCertificatePem() + "\n");
        SecureFile.WriteAllText(folder.CaKeyPath, PrivateKeyPem.ExportEncrypted(authority.Certificate, masterKey));

        using var server = authority.IssueServerCertificate(names, now, ServerCertificateValidity);
        SecureFile.WriteAllText(folder.ServerCertificatePath, PrivateKeyPem.ExportCertificates(server, authority.Certificate));
        SecureFile.WriteAllText(folder.ServerKeyPath, PrivateKeyPem.ExportEncrypted(server, masterKey));
        SecureFile.WriteAllText(folder.ServerCertificateSourcePath, ServerCertificateSource.ApplianceCa + "\n");
        SecureFile.WriteAllText(folder.HostNamesPath, string.Concat(request.HostNames.Select(n => n.Value + "\n")));

        using var database = ApplianceDatabase.Create(folder, databaseKey, now);
        using var auditLog = new LiteDbAuditLog(database);
        var audit = new AuditTrail(auditLog, time, NullLogger<AuditTrail>.Instance);
        await audit.RecordAsync(
            AuditActor.LocalAdmin, "appliance.initialised", names[0].Value,
            details: AuditTrail.Details(("ca-sha256", authority.Fingerprint)), cancellationToken: cancellationToken);
        var administration = new AccountAdministration(
            new LiteDbUserStore(database), new LiteDbGroupStore(database), new PasswordService(), audit, time,
            NullLogger<AccountAdministration>.Instance);
        var admin = await administration.AddUserAsync(
            new AddUserRequest(request.AdminName, nameof(Role.Admin), [], null, request.AdminPassword), cancellationToken);
        if (admin.Failure is { } failure)
        {
            throw new InvalidOperationException(failure.Message);
        }

        return new InitResult(authority.Fingerprint, admin.Value!.GeneratedPassword);
    }

    private static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
}
