using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tests;

/// <summary>An initialised data folder of its own with its database open; both go away on dispose.</summary>
public sealed class TempDatabase : IDisposable
{
    private readonly TempDataFolder _folder;

    private TempDatabase(TempDataFolder folder, ApplianceDatabase database)
    {
        _folder = folder;
        Database = database;
    }

    public ApplianceDatabase Database { get; private set; }

    public DataFolder Folder => _folder.Folder;

    /// <summary>Closes the database and opens it again, as a restart of the appliance does.</summary>
    public void Reopen()
    {
        Database.Dispose();
        Database = ApplianceDatabase.Open(_folder.Folder);
    }

    public static async Task<TempDatabase> OpenAsync()
    {
        var folder = new TempDataFolder();
        await folder.InitialiseAsync("Admin-Password-2026");
        return new TempDatabase(folder, ApplianceDatabase.Open(folder.Folder));
    }

    public void Dispose()
    {
        Database.Dispose();
        _folder.Dispose();
    }
}
