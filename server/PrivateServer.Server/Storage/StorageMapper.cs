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
}
