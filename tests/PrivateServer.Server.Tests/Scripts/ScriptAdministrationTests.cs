using PrivateServer.Server.Accounts;
using PrivateServer.Server.Admin;
using PrivateServer.Server.Scripts;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tests.Scripts;

public sealed class ScriptAdministrationTests : IAsyncLifetime, IDisposable
{
    private readonly TempDataFolder _temp = new();
    private ApplianceDatabase? _database;
    private ScriptAdministration _scripts = null!;
    private ScriptDesk _desk = null!;

    public async Task InitializeAsync()
    {
        await _temp.InitialiseAsync();
        _database = ApplianceDatabase.Open(_temp.Folder);
        var groups = new LiteDbGroupStore(_database);
        await groups.TryAddAsync(new Group("helpdesk", UnattendedConsent.Auto, DateTimeOffset.UtcNow), CancellationToken.None);
        await groups.TryAddAsync(new Group("servers", UnattendedConsent.Ask, DateTimeOffset.UtcNow), CancellationToken.None);
        var users = new LiteDbUserStore(_database);
        await users.TryAddAsync(new User("alice", Role.Supporter, ["helpdesk"], null, "x", false, DateTimeOffset.UtcNow), CancellationToken.None);
        var store = new LiteDbScriptStore(_database);
        _scripts = new ScriptAdministration(store, groups, TestAudit.Trail(_database), TimeProvider.System);
        _desk = new ScriptDesk(store, users, groups);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [InlineData("disk check", "bash", "df -h", "helpdesk", "'disk check' is not a valid script name")]
    [InlineData("disk", "zsh", "df -h", "helpdesk", "unknown shell 'zsh'; use bash, sh, powershell")]
    [InlineData("disk", "bash", "   ", "helpdesk", "a script body is text of 1 to 8192 characters")]
    [InlineData("disk", "bash", "df -h", "nobody", "no group 'nobody'")]
    public async Task Add_RefusesWhatCannotBeRunSafely_AndStoresNothing(string name, string shell, string body, string group, string refusal)
    {
        var outcome = await _scripts.AddAsync(new AddScriptRequest(name, shell, body, [group]), CancellationToken.None);

        outcome.Failure!.Message.Should().StartWith(refusal);
        (await _scripts.ListAsync(CancellationToken.None)).Should().BeEmpty();
    }

    [Fact]
    public async Task Add_KeepsTheScript_RefusesASecondOfTheSameName_AndRemoveTakesItAway()
    {
        var added = await _scripts.AddAsync(new AddScriptRequest("disk", "bash", "df -h\r\n", ["helpdesk"], TimeoutSeconds: 90), CancellationToken.None);
        var again = await _scripts.AddAsync(new AddScriptRequest("Disk", "sh", "df", ["helpdesk"]), CancellationToken.None);

        added.Value!.Sha256.Should().Be(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("df -h\n"u8)), "line endings are stored as \\n");
        added.Value.TimeoutSeconds.Should().Be(90);
        again.Failure!.Kind.Should().Be(AdminFailureKind.Conflict);
        (await _scripts.RemoveAsync("disk", CancellationToken.None)).Failure.Should().BeNull();
        (await _scripts.RemoveAsync("disk", CancellationToken.None)).Failure!.Kind.Should().Be(AdminFailureKind.NotFound);
    }

    [Fact]
    public async Task Desk_GivesASupporterOnlyTheScriptsOfTheirGroups_AndTheHostsConsentMode()
    {
        await _scripts.AddAsync(new AddScriptRequest("disk", "bash", "df -h", ["helpdesk"]), CancellationToken.None);
        await _scripts.AddAsync(new AddScriptRequest("restart-db", "bash", "systemctl restart db", ["servers"]), CancellationToken.None);

        (await _desk.FindForAsync("alice", "disk", CancellationToken.None)).Script!.Name.Should().Be("disk");
        (await _desk.FindForAsync("alice", "restart-db", CancellationToken.None)).Refusal.Should().Be("no script 'restart-db' for your groups; yours: disk");
        (await _desk.FindForAsync("mallory", "disk", CancellationToken.None)).Refusal.Should().Be("no script 'disk' for your groups; yours: none");
        (await _desk.ConsentAsync("helpdesk", CancellationToken.None)).Should().Be("auto");
        (await _desk.ConsentAsync("servers", CancellationToken.None)).Should().Be("ask");
        (await _desk.ConsentAsync(null, CancellationToken.None)).Should().Be("ask");
    }

    public void Dispose()
    {
        _database?.Dispose();
        _temp.Dispose();
    }
}
