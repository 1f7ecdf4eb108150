using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using LiteDB;
using Microsoft.Extensions.Logging.Abstractions;
using PrivateServer.Protocol.Api;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Admin;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Broker;
using PrivateServer.Server.Hosts;
using PrivateServer.Server.Storage;
using PrivateServer.Server.Tls;

namespace PrivateServer.Server.Tests.Hosts;

public sealed class HostEnrollmentTests : IAsyncLifetime, IDisposable
{
    private readonly TempDataFolder _temp = new();
    private readonly ManualClock _time = ManualClock.Monday();
    private ApplianceDatabase? _database;
    private ServerCertificateStore? _certificates;

    public async Task InitializeAsync()
    {
        await _temp.InitialiseAsync("Admin-Password-2026");
        _database = ApplianceDatabase.Open(_temp.Folder);
        _certificates = ServerCertificateStore.Load(_temp.Folder, DateTimeOffset.UtcNow);
        await new LiteDbGroupStore(_database).TryAddAsync(new Group("support", UnattendedConsent.Ask, _time.GetUtcNow()), CancellationToken.None);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Enroll_WithAFreshToken_IssuesAClientCertificateForTheHostsOwnKey()
    {
        var (administration, enrollment, validator) = Services();
        var token = await CreateTokenAsync(administration, TimeSpan.FromHours(1));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var (response, refusal) = await enrollment.EnrollAsync(Request(token, key), "127.0.0.1", CancellationToken.None);

        refusal.Should().BeNull();
        using var issued = X509Certificate2.CreateFromPem(response!.CertificatePem);
        issued.GetNameInfo(X509NameType.SimpleName, false).Should().Be(response.HostId).And.MatchRegex("^h-[0-9a-f]{16}$");
        issued.GetECDsaPublicKey()!.ExportSubjectPublicKeyInfo().Should().Equal(key.ExportSubjectPublicKeyInfo());
        issued.HasPrivateKey.Should().BeFalse();
        validator.IsValidHostCertificate(issued).Should().BeTrue();
        response.Group.Should().Be("support");
    }

    [Fact]
    public async Task Enroll_TwiceWithOneToken_RefusesTheSecond()
    {
        var (administration, enrollment, _) = Services();
        var token = await CreateTokenAsync(administration, TimeSpan.FromHours(1));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await enrollment.EnrollAsync(Request(token, key), "127.0.0.1", CancellationToken.None);

        var (response, refusal) = await enrollment.EnrollAsync(Request(token, key), "127.0.0.1", CancellationToken.None);

        response.Should().BeNull();
        refusal.Should().Be("the enrolment token was already used; ask the admin for a new one");
        (await administration.ListHostsAsync(CancellationToken.None)).Should().ContainSingle();
    }

    [Fact]
    public async Task Enroll_AfterTheTokenExpired_IsRefused()
    {
        var (administration, enrollment, _) = Services();
        var token = await CreateTokenAsync(administration, TimeSpan.FromMinutes(30));
        _time.Advance(TimeSpan.FromMinutes(31));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var (_, refusal) = await enrollment.EnrollAsync(Request(token, key), "127.0.0.1", CancellationToken.None);

        refusal.Should().Contain("expired");
    }

    [Fact]
    public async Task Enroll_WithAWeakKey_IsRefusedAndKeepsTheToken()
    {
        var (administration, enrollment, _) = Services();
        var token = await CreateTokenAsync(administration, TimeSpan.FromHours(1));
        using var weak = RSA.Create(1024);
        var weakRequest = new CertificateRequest("CN=pc1", weak, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var (_, refusal) = await enrollment.EnrollAsync(new EnrollRequest(token, "pc1", weakRequest), "127.0.0.1", CancellationToken.None);
        var (again, _) = await enrollment.EnrollAsync(Request(token, key), "127.0.0.1", CancellationToken.None);

        refusal.Should().Be("RSA keys must have at least 2048 bits, not 1024");
        again.Should().NotBeNull();
    }

    [Fact]
    public async Task Revoke_MakesTheValidatorRefuseTheCertificateAndMarksTheHost()
    {
        var (administration, enrollment, validator) = Services();
        var token = await CreateTokenAsync(administration, TimeSpan.FromHours(1));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (response, _) = await enrollment.EnrollAsync(Request(token, key), "127.0.0.1", CancellationToken.None);
        using var issued = X509Certificate2.CreateFromPem(response!.CertificatePem);
        var validBefore = validator.IsValidHostCertificate(issued);

        var revoked = await administration.RevokeHostAsync("pc1", CancellationToken.None);

        validBefore.Should().BeTrue("the host's certificate was checked (and remembered) while it was good");
        revoked.Value!.Revoked.Should().BeTrue();
        validator.IsValidHostCertificate(issued).Should().BeFalse();
        HostCertificateValidator.Load(_certificates!.CaCertificate, _database!).IsValidHostCertificate(issued).Should().BeFalse("revocation survives a restart");
    }

    [Fact]
    public async Task MoveAndDeleteToken_ChangeTheStoreTogetherWithTheirEvents_AndRefuseWhatIsNotThere()
    {
        var (administration, enrollment, _) = Services();
        await new LiteDbGroupStore(_database!).TryAddAsync(new Group("servers", UnattendedConsent.Auto, _time.GetUtcNow()), CancellationToken.None);
        var token = await CreateTokenAsync(administration, TimeSpan.FromHours(1), uses: 2);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (response, _) = await enrollment.EnrollAsync(Request(token, key), "127.0.0.1", CancellationToken.None);
        var id = SecretToken.Hash(token)[..HostAdministration.TokenIdLength];

        var moved = await administration.MoveHostAsync(response!.HostId, "servers", CancellationToken.None);
        var movedNowhere = await administration.MoveHostAsync("h-0000000000000000", "servers", CancellationToken.None);
        var deleted = await administration.DeleteTokenAsync(id, CancellationToken.None);
        var deletedAgain = await administration.DeleteTokenAsync(id, CancellationToken.None);

        moved.Value!.Group.Should().Be("servers");
        (await new LiteDbHostStore(_database!).FindAsync(response.HostId, CancellationToken.None))!.Group.Should().Be("servers");
        movedNowhere.Failure!.Kind.Should().Be(AdminFailureKind.NotFound);
        deleted.Value!.Group.Should().Be("support");
        deletedAgain.Failure!.Kind.Should().Be(AdminFailureKind.NotFound);
        (await new LiteDbHostStore(_database!).ListTokensAsync(CancellationToken.None)).Should().BeEmpty();
        var actions = _database!.Lite.GetCollection("audit").FindAll().Select(e => e["Action"].AsString).ToList();
        actions.Should().ContainInOrder("enroll-token.created", "host.enrolled", "host.moved", "enroll-token.deleted");
        actions.Count(a => a == "host.moved").Should().Be(1, "the refused move recorded nothing");
        (await TestAudit.Trail(_database!, _time).VerifyAsync(CancellationToken.None)).Intact.Should().BeTrue();
    }

    [Fact]
    public async Task CreateEnrollmentToken_ForAMissingGroupOrTooLong_IsRefused()
    {
        var (administration, _, _) = Services();

        var missing = await administration.CreateEnrollmentTokenAsync(new CreateEnrollmentTokenRequest("nobody", 3600), CancellationToken.None);
        var tooLong = await administration.CreateEnrollmentTokenAsync(new CreateEnrollmentTokenRequest("support", 31 * 24 * 3600), CancellationToken.None);

        missing.Failure!.Kind.Should().Be(AdminFailureKind.NotFound);
        tooLong.Failure!.Message.Should().Contain("30 days");
    }

    [Fact]
    public async Task Enroll_WithAThreeUseToken_EnrolsThreeHostsAndRefusesTheFourthAsUsed()
    {
        var (administration, enrollment, _) = Services();
        var token = await CreateTokenAsync(administration, TimeSpan.FromHours(1), uses: 3);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var enrolled = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var (response, refusal) = await enrollment.EnrollAsync(Request(token, key), "127.0.0.1", CancellationToken.None);
            refusal.Should().BeNull();
            enrolled.Add(response!.HostId);
        }

        var (refused, reason) = await enrollment.EnrollAsync(Request(token, key), "127.0.0.1", CancellationToken.None);

        refused.Should().BeNull();
        reason.Should().Be("the enrolment token was already used by all 3 hosts it allows; ask the admin for a new one");
        (await administration.ListHostsAsync(CancellationToken.None)).Select(h => h.Id).Should().BeEquivalentTo(enrolled);
        var stored = StoredToken(token);
        stored.Uses.Should().Be(3);
        stored.FirstUsedByHost.Should().Be(enrolled[0]);
        stored.UsedByHost.Should().Be(enrolled[2]);
    }

    [Fact]
    public async Task Enroll_ByTenParallelCallersWithATwoUseToken_EnrolsExactlyTwoHosts()
    {
        var (administration, enrollment, _) = Services();
        var token = await CreateTokenAsync(administration, TimeSpan.FromHours(1), uses: 2);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = Request(token, key);

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            Task.Run(() => enrollment.EnrollAsync(request, "127.0.0.1", CancellationToken.None))));

        results.Count(r => r.Response is not null).Should().Be(2);
        results.Where(r => r.Response is null).Select(r => r.Refusal).Should().HaveCount(8).And.OnlyContain(r => r!.Contains("already used"));
        var hosts = await administration.ListHostsAsync(CancellationToken.None);
        hosts.Should().HaveCount(2);
        StoredToken(token).Uses.Should().Be(2);
        var events = _database!.Lite.GetCollection("audit").FindAll().ToList();
        events.Where(e => e["Action"].AsString == "host.enrolled").Select(e => e["Target"].AsString)
            .Should().BeEquivalentTo(hosts.Select(h => h.Id), "each host added has its event, and no event names a host that lost the race");
        events.Count(e => e["Action"].AsString == "host.enrol-refused").Should().Be(8);
    }

    [Fact]
    public async Task Enroll_WithALegacyTokenDocumentWithoutUseFields_IsSingleUse()
    {
        var (_, enrollment, _) = Services();
        var tokens = _database!.Lite.GetCollection("enrollmentTokens");
        var now = _time.GetUtcNow().UtcDateTime;
        tokens.Insert(new BsonDocument
        {
            ["_id"] = SecretToken.Hash("legacy-fresh"),
            ["Group"] = "support",
            ["CreatedAt"] = now,
            ["ExpiresAt"] = now.AddDays(1),
        });
        tokens.Insert(new BsonDocument
        {
            ["_id"] = SecretToken.Hash("legacy-used"),
            ["Group"] = "support",
            ["CreatedAt"] = now,
            ["ExpiresAt"] = now.AddDays(1),
            ["UsedAt"] = now,
            ["UsedByHost"] = "h-0000000000000001",
        });
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var (first, _) = await enrollment.EnrollAsync(Request("legacy-fresh", key), "127.0.0.1", CancellationToken.None);
        var (_, second) = await enrollment.EnrollAsync(Request("legacy-fresh", key), "127.0.0.1", CancellationToken.None);
        var (_, used) = await enrollment.EnrollAsync(Request("legacy-used", key), "127.0.0.1", CancellationToken.None);

        first.Should().NotBeNull();
        second.Should().Be("the enrolment token was already used; ask the admin for a new one");
        used.Should().Be("the enrolment token was already used; ask the admin for a new one");
        StoredToken("legacy-fresh").Should().Match<EnrollmentToken>(t => t.MaxUses == 1 && t.Uses == 1 && t.UsedByHost == first!.HostId);
    }

    [Fact]
    public async Task CreateEnrollmentToken_WithUsesOutOfRange_IsRefused()
    {
        var (administration, _, _) = Services();

        var none = await administration.CreateEnrollmentTokenAsync(new CreateEnrollmentTokenRequest("support", 3600, 0), CancellationToken.None);
        var tooMany = await administration.CreateEnrollmentTokenAsync(
            new CreateEnrollmentTokenRequest("support", 3600, HostAdministration.MaximumTokenUses + 1), CancellationToken.None);
        var most = await administration.CreateEnrollmentTokenAsync(
            new CreateEnrollmentTokenRequest("support", 3600, HostAdministration.MaximumTokenUses), CancellationToken.None);

        none.Failure!.Message.Should().Be("an enrolment token may be used by 1 to 100000 hosts, not 0");
        tooMany.Failure!.Kind.Should().Be(AdminFailureKind.Invalid);
        most.Value!.MaxUses.Should().Be(100_000);
    }

    public void Dispose()
    {
        _certificates?.Dispose();
        _database?.Dispose();
        _temp.Dispose();
    }

    private (HostAdministration Administration, HostEnrollment Enrollment, HostCertificateValidator Validator) Services()
    {
        var hosts = new LiteDbHostStore(_database!);
        var validator = HostCertificateValidator.Load(_certificates!.CaCertificate, _database!);
        var audit = TestAudit.Trail(_database!, _time);
        var administration = new HostAdministration(
            hosts, new LiteDbGroupStore(_database!), new HostPresence(), audit, _time, NullLogger<HostAdministration>.Instance, validator);
        return (administration, new HostEnrollment(hosts, _certificates, audit, _time, NullLogger<HostEnrollment>.Instance), validator);
    }

    private static async Task<string> CreateTokenAsync(HostAdministration administration, TimeSpan lifetime, int? uses = null) =>
        (await administration.CreateEnrollmentTokenAsync(
            new CreateEnrollmentTokenRequest("support", (int)lifetime.TotalSeconds, uses), CancellationToken.None)).Value!.Token;

    private EnrollmentToken StoredToken(string token) =>
        _database!.Lite.GetCollection<LiteDbHostStore.TokenDocument>("enrollmentTokens").FindById(SecretToken.Hash(token)).ToToken();

    private static EnrollRequest Request(string token, ECDsa key) =>
        new(token, "pc1", new CertificateRequest("CN=pc1", key, HashAlgorithmName.SHA256).CreateSigningRequestPem());
}
