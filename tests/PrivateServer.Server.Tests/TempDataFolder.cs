using PrivateServer.Certs.Issuance;
using PrivateServer.Server.Setup;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tests;

/// <summary>A data folder of its own under the temp directory, removed afterwards.</summary>
public sealed class TempDataFolder : IDisposable
{
    public TempDataFolder()
    {
        Folder = new DataFolder(Path.Combine(Path.GetTempPath(), "ps-unit-" + Guid.NewGuid().ToString("N")[..12]));
    }

    public DataFolder Folder { get; }

    /// <summary>Initialises the folder like <c>privateserver init</c> and returns the generated admin password.</summary>
    public async Task<InitResult> InitialiseAsync(string? adminPassword = null) =>
        await new ApplianceInitializer(TimeProvider.System).InitialiseAsync(
            Folder, new InitRequest([SubjectName.Parse("rs.example.internal")], "admin", adminPassword), CancellationToken.None);

    public void Dispose()
    {
        if (Directory.Exists(Folder.Root))
        {
            Directory.Delete(Folder.Root, recursive: true);
        }
    }
}
