using LiteDB;

namespace PrivateServer.Server.Storage;

/// <summary>One BSON mapper per database (LiteDB's global mapper is shared mutable state).</summary>
internal static class StorageMapper
{
    public static BsonMapper Create() => new()
    {
        EnumAsInteger = false,
        SerializeNullValues = false,
        TrimWhitespace = false,
        EmptyStringToNull = false,
    };

    /// <summary>A date read back from a document (stored as UTC) as the instant it is.</summary>
    public static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
