using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Serialization;
using PrivateServer.Protocol.Files;
using PrivateServer.Protocol.Transport;
using PrivateServer.Protocol.Trust;

namespace PrivateServer.HostModule.State;

/// <summary>What an enrolled host remembers: where its server is, which CA it pins, and who it is.</summary>
internal sealed record HostIdentity(string Server, string HostId, string Name, string Group, string CaFingerprint);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(HostIdentity))]
internal sealed partial class HostStateJson : JsonSerializerContext;

/// <summary>
/// The host's state folder (0700): <c>host.json</c>, its private key <c>host.key</c> (0600; generated
/// here, never sent anywhere), its certificate <c>host.crt</c> and the appliance CA <c>ca.crt</c>.
/// </summary>
internal sealed class HostState(string directory)
{
    public string Directory { get; } = Path.GetFullPath(directory);

    private string IdentityPath => Path.Combine(Directory, "host.json");

    private string KeyPath => Path.Combine(Directory, "host.key");

    private string CertificatePath => Path.Combine(Directory, "host.crt");

    private string CaPath => Path.Combine(Directory, "ca.crt");

    /// <summary>The user's config folder (XDG_CONFIG_HOME or ~/.config; %APPDATA% on Windows); the packages set /var/lib/privateserver-host.</summary>
    public static string DefaultDirectory =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData, Environment.SpecialFolderOption.DoNotVerify), "privateserver-host");

    public bool IsEnrolled => File.Exists(IdentityPath);

    public void Save(HostIdentity identity, string privateKeyPem, string certificatePem, string caCertificatePem)
    {
        SecureFile.CreatePrivateDirectory(Directory);
        SecureFile.WriteAllText(KeyPath, privateKeyPem);
        SecureFile.WriteAllText(CertificatePath, certificatePem);
        SecureFile.WriteAllText(CaPath, caCertificatePem);
        // Written last: a host is enrolled only when everything else is in place.
        SecureFile.WriteAllText(IdentityPath, JsonSerializer.Serialize(identity, HostStateJson.Default.HostIdentity));
    }

    public (HostIdentity Identity, CaPin Pin, X509Certificate2 Ca, X509Certificate2 Certificate) Load()
    {
        if (!IsEnrolled)
        {
            throw new ModuleStateException($"this host is not enrolled (no {IdentityPath}); run 'privateserver-host enroll' first");
        }

        try
        {
            var identity = JsonSerializer.Deserialize(File.ReadAllText(IdentityPath), HostStateJson.Default.HostIdentity)
                ?? throw new ModuleStateException($"{IdentityPath} is empty");
            var pin = ModuleCommandLine.ParsePin(identity.CaFingerprint);
            var ca = X509Certificate2.CreateFromPem(File.ReadAllText(CaPath));
            if (!pin.Matches(ca))
            {
                ca.Dispose();
                throw new ModuleStateException($"{CaPath} is not the CA this host was enrolled with; enrol again");
            }

            var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(CertificatePath), File.ReadAllText(KeyPath));
            // An ephemeral key cannot be used for TLS client authentication on every platform: re-import.
            var usable = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
            certificate.Dispose();
            return (identity, pin, ca, usable);
        }
        catch (Exception ex) when (ex is IOException or JsonException or CryptographicException)
        {
            throw new ModuleStateException($"the host state in {Directory} cannot be read ({ex.Message}); enrol again");
        }
    }
}
