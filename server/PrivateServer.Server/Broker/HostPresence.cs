using System.Collections.Concurrent;

namespace PrivateServer.Server.Broker;

/// <summary>Which hosts are online right now: one control channel per host id.</summary>
public sealed class HostPresence
{
    private readonly ConcurrentDictionary<string, HostConnection> _online = new(StringComparer.Ordinal);

    public bool IsOnline(string hostId) => _online.ContainsKey(hostId);

    public HostConnection? Find(string hostId) => _online.TryGetValue(hostId, out var connection) ? connection : null;

    /// <summary>Registers a host's channel; an older channel of the same host is closed (the host reconnected).</summary>
    public void Register(HostConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var previous = default(HostConnection);
        _online.AddOrUpdate(connection.Host.Id, connection, (_, old) =>
        {
            previous = old;
            return connection;
        });
        previous?.Close("the host connected again");
    }

    /// <summary>Removes the channel if it is still the registered one.</summary>
    public void Unregister(HostConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _online.TryRemove(new KeyValuePair<string, HostConnection>(connection.Host.Id, connection));
    }

    /// <summary>Closes the host's live channel (revocation); false when it was not online.</summary>
    public bool Disconnect(string hostId, string reason)
    {
        if (!_online.TryGetValue(hostId, out var connection))
        {
            return false;
        }

        connection.Close(reason);
        return true;
    }
}
