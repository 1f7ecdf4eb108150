using LiteDB;

namespace PrivateServer.Server.Storage;

/// <summary>
/// The encrypted LiteDB file <c>privateserver.db</c>. One process owns it (direct mode, guarded by
/// an exclusive lock on <c>privateserver.lock</c>): the running server, or an admin verb when no
/// server runs.
/// </summary>
public sealed class ApplianceDatabase : IDisposable
{
    private const string SettingsCollection = "settings";
    private const string ApplianceSettingsId = "appliance";
    private const int SchemaVersion = 1;

    private readonly FileStream _ownership;

    private ApplianceDatabase(LiteDatabase database, FileStream ownership)
    {
        Lite = database;
        _ownership = ownership;
    }

    internal LiteDatabase Lite { get; }

    /// <summary>
    /// Held by every audit append and every multi-collection transaction (<see cref="InTransaction{T}"/>): the audit
    /// chain's head never moves while a transaction that appends to it may still roll back.
    /// </summary>
    internal SemaphoreSlim WriteGate { get; } = new(1, 1);

    /// <summary>Runs synchronous writes while holding <see cref="WriteGate"/> (appends, transactions and check-then-write steps never interleave).</summary>
    internal async Task<T> UnderWriteGateAsync<T>(Func<T> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        await WriteGate.WaitAsync(cancellationToken);
        try
        {
            return write();
        }
        finally
        {
            WriteGate.Release();
        }
    }

    /// <summary>Runs synchronous writes that return nothing while holding <see cref="WriteGate"/>.</summary>
    internal Task UnderWriteGateAsync(Action write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        return UnderWriteGateAsync(
            () =>
            {
                write();
                return true;
            },
            cancellationToken);
    }

    /// <summary>Raised after a transaction rolled back, so caches of what it wrote (the audit chain's head) are dropped.</summary>
    internal event Action? RolledBack;

    /// <summary>
    /// Runs synchronous writes to several collections as one LiteDB transaction: all of them or none. The caller holds
    /// <see cref="WriteGate"/>; <paramref name="work"/> must not await (LiteDB binds a transaction to its thread).
    /// </summary>
    internal T InTransaction<T>(Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!Lite.BeginTrans())
        {
            throw new InvalidOperationException("a database transaction is already open on this thread");
        }

        var committed = false;
        try
        {
            var result = work();
            // LiteDB ends a transaction by itself when one of its operations throws: a swallowed error inside the work
            // would leave later writes outside it, and Commit says so by returning false.
            committed = Lite.Commit();
            return committed ? result : throw new InvalidOperationException("the database transaction ended before its commit; nothing of it counts");
        }
        catch
        {
            if (!committed)
            {
                try
                {
                    Lite.Rollback();
                }
                finally
                {
                    RolledBack?.Invoke();
                }
            }

            throw;
        }
    }

    /// <summary>Opens the database of an initialised data folder, or throws one clear <see cref="DataFolderException"/>.</summary>
    public static ApplianceDatabase Open(DataFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        folder.EnsureInitialised();
        var database = OpenFile(folder, folder.ReadDatabaseKey());
        BsonDocument? settings;
        try
        {
            settings = database.Lite.GetCollection(SettingsCollection).FindById(ApplianceSettingsId);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            database.Dispose();
            throw Unreadable(folder, ex);
        }

        if (settings is null || !settings["schema"].IsInt32 || settings["schema"].AsInt32 != SchemaVersion)
        {
            database.Dispose();
            throw new DataFolderException($"{folder.DatabasePath} is not a PrivateServer database of schema {SchemaVersion}");
        }

        return database;
    }

    /// <summary>Creates the database file of a new data folder, encrypted with the given key.</summary>
    internal static ApplianceDatabase Create(DataFolder folder, string key, DateTimeOffset now)
    {
        var database = OpenFile(folder, key);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(folder.DatabasePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        database.Lite.GetCollection(SettingsCollection).Insert(new BsonDocument
        {
            ["_id"] = ApplianceSettingsId,
            ["schema"] = SchemaVersion,
            ["initialisedAt"] = now.UtcDateTime,
        });
        return database;
    }

    public void Dispose()
    {
        WriteGate.Dispose();
        Lite.Dispose();
        _ownership.Dispose();
    }

    private static ApplianceDatabase OpenFile(DataFolder folder, string key)
    {
        var ownership = TakeOwnership(folder);
        var connection = new ConnectionString
        {
            Filename = folder.DatabasePath,
            Password = key,
            Connection = ConnectionType.Direct,
        };
        try
        {
            // Dates are UTC on disk; without this pragma LiteDB reads them back in the machine's local
            // time, which shifts every expiry on a VM that is not set to UTC.
            var lite = new LiteDatabase(connection, StorageMapper.Create());
            try
            {
                lite.UtcDate = true;
            }
            catch
            {
                lite.Dispose();
                throw;
            }

            return new ApplianceDatabase(lite, ownership);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            ownership.Dispose();
            // LiteDB reports damage with several exception types (LiteException, InvalidCastException, ...).
            throw Unreadable(folder, ex);
        }
    }

    /// <summary>FileShare.None is an exclusive flock on Unix and a sharing lock on Windows; both end with the process.</summary>
    private static FileStream TakeOwnership(DataFolder folder)
    {
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            return new FileStream(folder.LockPath, options);
        }
        catch (IOException ex)
        {
            throw new DataFolderException(
                $"{folder.DatabasePath} is in use by another process (is a privateserver already running on {folder.Root}?)", ex);
        }
    }

    private static DataFolderException Unreadable(DataFolder folder, Exception ex) =>
        new($"the database {folder.DatabasePath} cannot be read ({ex.Message.ReplaceLineEndings(" ")}); restore it from a backup", ex);
}
