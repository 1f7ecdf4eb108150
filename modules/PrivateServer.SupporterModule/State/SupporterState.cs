using System.Text.Json;
using System.Text.Json.Serialization;
using PrivateServer.Protocol.Files;
using PrivateServer.Protocol.Transport;

namespace PrivateServer.SupporterModule.State;

/// <summary>A supporter's sign-in: the server, the CA it pins, who signed in, and the short-lived bearer token.</summary>
internal sealed record SupporterLogin(string Server, string CaFingerprint, string CaCertificatePem, string User, string Token, DateTimeOffset ExpiresAt);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(SupporterLogin))]
internal sealed partial class SupporterStateJson : JsonSerializerContext;

/// <summary>The supporter's state folder (0700) with <c>login.json</c> (0600).</summary>
internal sealed class SupporterState(string directory)
{
    public string Directory { get; } = Path.GetFullPath(directory);

    private string LoginPath => Path.Combine(Directory, "login.json");

    /// <summary>The user's config folder (XDG_CONFIG_HOME or ~/.config; %APPDATA% on Windows).</summary>
    public static string DefaultDirectory =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData, Environment.SpecialFolderOption.DoNotVerify), "privateserver-supporter");

    public void Save(SupporterLogin login)
    {
        SecureFile.CreatePrivateDirectory(Directory);
        SecureFile.WriteAllText(LoginPath, JsonSerializer.Serialize(login, SupporterStateJson.Default.SupporterLogin));
    }

    public SupporterLogin Load(DateTimeOffset now)
    {
        SupporterLogin? login = null;
        try
        {
            if (File.Exists(LoginPath))
            {
                login = JsonSerializer.Deserialize(File.ReadAllText(LoginPath), SupporterStateJson.Default.SupporterLogin);
            }
        }
        catch (Exception ex) when (ex is IOException or JsonException)
        {
            throw new ModuleStateException($"the sign-in in {LoginPath} cannot be read ({ex.Message}); sign in again");
        }

        if (login is null)
        {
            throw new ModuleStateException("not signed in; run 'privateserver-supporter login' first");
        }

        if (login.ExpiresAt <= now)
        {
            throw new ModuleStateException($"the sign-in of {login.User} expired at {login.ExpiresAt:u}; run 'privateserver-supporter login' again");
        }

        return login;
    }
}
