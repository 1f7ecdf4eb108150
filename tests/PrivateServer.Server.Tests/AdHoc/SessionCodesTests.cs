using System.Net;
using LiteDB;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.AdHoc;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Settings;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tests.AdHoc;

public sealed class SessionCodesTests : IAsyncLifetime, IDisposable
{
    private static readonly IPAddress Customer = IPAddress.Parse("192.0.2.8");
    private static readonly User Alice = new("alice", Role.Supporter, ["support"], null, "x", false, DateTimeOffset.UnixEpoch);
    private static readonly User Bob = new("bob", Role.Supporter, ["support"], null, "x", false, DateTimeOffset.UnixEpoch);

    private readonly TempDataFolder _temp = new();
    private readonly ManualClock _clock = ManualClock.Monday();
    private ApplianceDatabase? _database;
    private LiteDbSessionCodeStore? _store;
    private SettingsService? _settings;
    private AuditTrail? _audit;

    public async Task InitializeAsync()
    {
        await _temp.InitialiseAsync("Admin-Password-2026");
        _database = ApplianceDatabase.Open(_temp.Folder);
        _store = new LiteDbSessionCodeStore(_database);
        _audit = TestAudit.Trail(_database, _clock);
        _settings = new SettingsService(new LiteDbSettingsStore(_database), Options.Create(new AdHocOptions()), _audit, _clock, NullLogger<SettingsService>.Instance);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Redeem_ALiveCode_WorksOnceAndOnlyOnce()
    {
        var codes = Codes();
        var (code, expires) = await codes.CreateAsync(Alice, CancellationToken.None);

        var first = await codes.RedeemAsync(code, Customer, CancellationToken.None);
        var second = await codes.RedeemAsync(code, Customer, CancellationToken.None);

        code.Should().MatchRegex("^[0-9]{8}$");
        expires.Should().Be(_clock.GetUtcNow() + TimeSpan.FromMinutes(10));
        first.Code!.Supporter.Should().Be("alice");
        first.Code.RedeemedFrom.Should().Be("192.0.2.8");
        second.Code.Should().BeNull();
        second.Refusal.Should().Be($"the session code {code[..4]} {code[4..]} was already used; ask your supporter for a new one");
    }

    [Fact]
    public async Task Redeem_ByTenCustomersAtOnce_LetsExactlyOneIn_AndTheTrailSaysSoOnce()
    {
        var codes = Codes();
        var (code, _) = await codes.CreateAsync(Alice, CancellationToken.None);

        var results = await Task.WhenAll(Enumerable.Range(1, 10).Select(i =>
            Task.Run(() => codes.RedeemAsync(code, System.Net.IPAddress.Parse($"192.0.2.{i}"), CancellationToken.None))));

        results.Count(r => r.Code is not null).Should().Be(1);
        results.Where(r => r.Code is null).Should().AllSatisfy(r => r.Refusal.Should().EndWith("was already used; ask your supporter for a new one"));
        var actions = _database!.Lite.GetCollection("audit").FindAll().Select(e => e["Action"].AsString).ToList();
        actions.Count(a => a == "code.redeemed").Should().Be(1);
        actions.Count(a => a == "code.attempt-failed").Should().Be(9);
        (await _audit!.VerifyAsync(CancellationToken.None)).Intact.Should().BeTrue();
    }

    [Fact]
    public async Task Create_AfterTheAdminChangedTheLifetime_UsesTheNewLifetimeWithoutARestart()
    {
        var codes = Codes();
        var (_, before) = await codes.CreateAsync(Alice, CancellationToken.None);

        await _settings!.UpdateAsync(new SettingsChange(new Dictionary<string, string?>(), 3, null), "admin", CancellationToken.None);
        var (_, after) = await codes.CreateAsync(Alice, CancellationToken.None);

        before.Should().Be(_clock.GetUtcNow() + TimeSpan.FromMinutes(10));
        after.Should().Be(_clock.GetUtcNow() + TimeSpan.FromMinutes(3));
    }

    [Fact]
    public async Task Redeem_AfterTheLifetime_SaysTheCodeExpired()
    {
        var codes = Codes();
        var (code, _) = await codes.CreateAsync(Alice, CancellationToken.None);
        _clock.Advance(TimeSpan.FromMinutes(10));

        var late = await codes.RedeemAsync(code, Customer, CancellationToken.None);
        var own = await codes.FindOwnAsync(code, Alice, CancellationToken.None);

        late.Refusal.Should().Contain("has expired");
        own.Problem.Should().Contain("expired");
    }

    [Fact]
    public async Task FindOwn_SomeoneElsesCode_LooksLikeNoCodeAtAll()
    {
        var codes = Codes();
        var (code, _) = await codes.CreateAsync(Alice, CancellationToken.None);

        var other = code == "00000000" ? "00000001" : "00000000";
        var bobs = await codes.FindOwnAsync(code, Bob, CancellationToken.None);
        var nobodys = await codes.FindOwnAsync(other, Bob, CancellationToken.None);

        bobs.Code.Should().BeNull();
        bobs.Problem.Should().Be($"no live session code {code[..4]} {code[4..]} of yours (create one with 'privateserver-supporter code')");
        nobodys.Problem.Should().Be($"no live session code {other[..4]} {other[4..]} of yours (create one with 'privateserver-supporter code')");
    }

    [Fact]
    public async Task Store_TwoLiveCodesAlike_IsRefusedButADeadOnesHashMayComeBack()
    {
        var now = _clock.GetUtcNow();
        var hash = SessionCodes.Hash("12345678");
        var live = new SessionCodeRecord("sc-1", hash, "alice", now, now.AddMinutes(10), null, null);

        var added = await _store!.TryAddAsync(live, now, CancellationToken.None);
        var twin = await _store.TryAddAsync(live with { Id = "sc-2", Supporter = "bob" }, now, CancellationToken.None);
        var later = await _store.TryAddAsync(live with { Id = "sc-3", CreatedAt = now.AddMinutes(11), ExpiresAt = now.AddMinutes(21) }, now.AddMinutes(11), CancellationToken.None);

        added.Should().BeTrue();
        twin.Should().BeFalse();
        later.Should().BeTrue();
        (await _store.FindAsync(hash, CancellationToken.None))!.Id.Should().Be("sc-3");
    }

    [Fact]
    public async Task Create_KeepsOnlyTheHashOfTheCode()
    {
        var (code, _) = await Codes().CreateAsync(Alice, CancellationToken.None);

        var stored = _database!.Lite.GetCollection("sessionCodes").FindAll().Single();

        stored.ToString().Should().NotContain(code);
        stored["Hash"].AsString.Should().Be(SessionCodes.Hash(code));
    }

    [Fact]
    public async Task Redeem_WrongCodes_AreCountedByTheLimiter()
    {
        var codes = Codes();
        var (code, _) = await codes.CreateAsync(Alice, CancellationToken.None);
        var wrong = code[..7] + (char)('0' + ((code[7] - '0' + 1) % 10));
        for (var i = 0; i < 5; i++)
        {
            (await codes.RedeemAsync(wrong, Customer, CancellationToken.None)).Refusal.Should().StartWith("there is no session code");
        }

        var sixth = await codes.RedeemAsync(code, Customer, CancellationToken.None);

        sixth.Code.Should().BeNull("the sixth try comes too early, even with the right code");
        sixth.Refusal.Should().Be("too many wrong session codes; try again in 1 s");
    }

    public void Dispose()
    {
        _settings?.Dispose();
        _database?.Dispose();
        _temp.Dispose();
    }

    private SessionCodes Codes() =>
        new(_store!, new CodeAttemptLimiter(_clock), _settings!, _audit!, _clock, NullLogger<SessionCodes>.Instance);
}
