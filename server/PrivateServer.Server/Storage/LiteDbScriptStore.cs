using LiteDB;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Scripts;

namespace PrivateServer.Server.Storage;

/// <summary>The script library in the <c>scripts</c> collection, keyed by normalised name.</summary>
internal sealed class LiteDbScriptStore(ApplianceDatabase database) : IScriptStore
{
    private ILiteCollection<ScriptDocument> Scripts => database.Lite.GetCollection<ScriptDocument>("scripts");

    public Task<Script?> FindAsync(string name, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Scripts.FindById(AccountName.Normalize(name))?.ToScript());
    }

    public Task<bool> TryAddAsync(Script script, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(script);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(TryInsert(database, script));
    }

    /// <summary>Adds a script (inside the caller's transaction, if any); false when the name exists in any case.</summary>
    internal static bool TryInsert(ApplianceDatabase database, Script script)
    {
        var scripts = database.Lite.GetCollection<ScriptDocument>("scripts");
        // Looked up first: inside a transaction a failed insert would end the whole transaction.
        if (scripts.FindById(AccountName.Normalize(script.Name)) is not null)
        {
            return false;
        }

        try
        {
            scripts.Insert(ScriptDocument.From(script));
            return true;
        }
        catch (LiteException ex) when (ex.ErrorCode == LiteException.INDEX_DUPLICATE_KEY)
        {
            return false;
        }
    }

    /// <summary>Removes a script (inside the caller's transaction, if any); false when there is none.</summary>
    internal static bool Delete(ApplianceDatabase database, string name) =>
        database.Lite.GetCollection<ScriptDocument>("scripts").Delete(AccountName.Normalize(name));

    public Task<IReadOnlyList<Script>> ListAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        IReadOnlyList<Script> scripts = Scripts.FindAll().Select(d => d.ToScript()).OrderBy(s => s.Name, StringComparer.OrdinalIgnoreCase).ToList();
        return Task.FromResult(scripts);
    }

    public Task<bool> RemoveAsync(string name, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Delete(database, name));
    }

    internal sealed class ScriptDocument
    {
        [BsonId]
        public string Id { get; set; } = string.Empty;

        public string Name { get; set; } = string.Empty;

        public string Shell { get; set; } = string.Empty;

        public string Body { get; set; } = string.Empty;

        public List<string> Groups { get; set; } = [];

        public long TimeoutSeconds { get; set; }

        public DateTime CreatedAt { get; set; }

        public string CreatedBy { get; set; } = string.Empty;

        public static ScriptDocument From(Script script) => new()
        {
            Id = AccountName.Normalize(script.Name),
            Name = script.Name,
            Shell = script.Shell,
            Body = script.Body,
            Groups = [.. script.Groups],
            TimeoutSeconds = (long)script.Timeout.TotalSeconds,
            CreatedAt = script.CreatedAt.UtcDateTime,
            CreatedBy = script.CreatedBy,
        };

        public Script ToScript() =>
            new(Name, Shell, Body, Groups, TimeSpan.FromSeconds(TimeoutSeconds), StorageMapper.Utc(CreatedAt), CreatedBy);
    }
}
