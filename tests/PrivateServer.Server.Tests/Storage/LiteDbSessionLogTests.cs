using PrivateServer.Server.Broker;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tests.Storage;

public sealed class LiteDbSessionLogTests : IAsyncLifetime, IDisposable
{
    private static readonly DateTimeOffset Monday = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);

    private TempDatabase? _temp;

    public async Task InitializeAsync()
    {
        _temp = await TempDatabase.OpenAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task AddGrant_ToARunningSession_IsKeptInOrderWithTheSessionAndSurvivesItsEnd()
    {
        var log = new LiteDbSessionLog(_temp!.Database);
        await log.AddAsync(new SessionRecord("se-1", "alice", "h-1", "desktop", "enrolled", ["view", "tunnel:screen"], Monday), CancellationToken.None);

        await log.AddGrantAsync("se-1", new SessionGrant(["control"], Monday.AddMinutes(2), ConsentKind.Asked), CancellationToken.None);
        await log.AddGrantAsync("se-1", new SessionGrant(["tunnel:ssh"], Monday.AddMinutes(5), ConsentKind.Policy), CancellationToken.None);
        await log.AddGrantAsync("se-unknown", new SessionGrant(["control"], Monday, ConsentKind.Asked), CancellationToken.None);
        await log.EndAsync("se-1", Monday.AddMinutes(9), "supporter", "the supporter ended the session", CancellationToken.None);
        var session = await log.FindAsync("se-1", CancellationToken.None);

        session!.LaterGrants.Should().HaveCount(2);
        session.LaterGrants[0].Permissions.Should().Equal("control");
        session.LaterGrants[0].At.Should().Be(Monday.AddMinutes(2));
        session.LaterGrants[0].Kind.Should().Be(ConsentKind.Asked);
        session.LaterGrants[1].Kind.Should().Be(ConsentKind.Policy);
        session.EndedBy.Should().Be("supporter");
        (await log.FindAsync("se-unknown", CancellationToken.None)).Should().BeNull();
    }

    public void Dispose()
    {
        _temp?.Dispose();
    }
}
