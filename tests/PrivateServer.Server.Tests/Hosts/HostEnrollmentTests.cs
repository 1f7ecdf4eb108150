using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Abstractions;
using PrivateServer.Protocol.Api;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Admin;
using PrivateServer.Server.Broker;
using PrivateServer.Server.Hosts;
using PrivateServer.Server.Storage;
using PrivateServer.Server.Tls;

namespace PrivateServer.Server.Tests.Hosts;

public sealed class HostEnrollmentTests : IAsyncLifetime, IDisposable
{
    private readonly TempDataFolder _temp = new();
    private readonly ClockAt _time = new(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero));
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

        var revoked = await administration.RevokeHostAsync("pc1", CancellationToken.None);

        revoked.Value!.Revoked.Should().BeTrue();
        validator.IsValidHostCertificate(issued).Should().BeFalse();
        HostCertificateValidator.Load(_certificates!.CaCertificate, _database!).IsValidHostCertificate(issued).Should().BeFalse("revocation survives a restart");
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
        var administration = new HostAdministration(
            hosts, new LiteDbGroupStore(_database!), new HostPresence(), _time, NullLogger<HostAdministration>.Instance, validator);
        return (administration, new HostEnrollment(hosts, _certificates, _time, NullLogger<HostEnrollment>.Instance), validator);
    }

    private static async Task<string> CreateTokenAsync(HostAdministration administration, TimeSpan lifetime) =>
        (await administration.CreateEnrollmentTokenAsync(new CreateEnrollmentTokenRequest("support", (int)lifetime.TotalSeconds), CancellationToken.None)).Value!.Token;

    private static EnrollRequest Request(string token, ECDsa key) =>
        new(token, "pc1", new CertificateRequest("CN=pc1", key, HashAlgorithmName.SHA256).CreateSigningRequestPem());

    private sealed class ClockAt(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
