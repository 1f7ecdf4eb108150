using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PrivateServer.Certs.Authority;
using PrivateServer.Certs.Issuance;
using PrivateServer.Server.Tls;

namespace PrivateServer.Server.Tests.Tls;

/// <summary>A host certificate's chain is checked once and remembered; what must hold at every handshake still does.</summary>
public sealed class HostCertificateValidatorTests : IAsyncLifetime, IDisposable
{
    private readonly ManualClock _time = new(DateTimeOffset.UtcNow);
    private readonly ApplianceAuthority _authority;
    private TempDatabase? _database;

    public HostCertificateValidatorTests()
    {
        _authority = ApplianceAuthority.Create("Validator CA", _time.GetUtcNow());
    }

    public async Task InitializeAsync() => _database = await TempDatabase.OpenAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public void IsValidHostCertificate_OnceAccepted_IsRefusedWhenTheCertificateExpires()
    {
        var validator = HostCertificateValidator.Load(_authority.Certificate, _database!.Database, _time);
        using var host = IssueHost(TimeSpan.FromMinutes(30));

        var first = validator.IsValidHostCertificate(host);
        var again = validator.IsValidHostCertificate(X509CertificateLoader.LoadCertificate(host.RawData));
        _time.Advance(TimeSpan.FromMinutes(31));
        var expired = validator.IsValidHostCertificate(host);

        first.Should().BeTrue();
        again.Should().BeTrue();
        expired.Should().BeFalse("a remembered check does not outlive the certificate");
    }

    [Fact]
    public void IsValidHostCertificate_OnceAccepted_IsRefusedAtOnceWhenRevoked()
    {
        var validator = HostCertificateValidator.Load(_authority.Certificate, _database!.Database, _time);
        using var host = IssueHost(TimeSpan.FromDays(30));
        var before = validator.IsValidHostCertificate(host);

        validator.Revoke(host.GetCertHashString(HashAlgorithmName.SHA256));

        before.Should().BeTrue();
        validator.IsValidHostCertificate(host).Should().BeFalse();
        validator.Validate(this, host, null, System.Net.Security.SslPolicyErrors.None).Should().BeFalse("the TLS handshake refuses it too");
    }

    [Fact]
    public void Validate_WhatIsNotAHostCertificateOfThisCa_IsRefused_AfterAGoodOneWasAccepted()
    {
        var validator = HostCertificateValidator.Load(_authority.Certificate, _database!.Database, _time);
        using var good = IssueHost(TimeSpan.FromDays(30));
        using var other = ApplianceAuthority.Create("Validator CA", _time.GetUtcNow());
        using var foreign = IssueHost(TimeSpan.FromDays(30), other);
        using var server = _authority.IssueServerCertificate([SubjectName.Parse("localhost")], _time.GetUtcNow(), TimeSpan.FromDays(30));

        var accepted = validator.Validate(this, good, null, System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors);

        accepted.Should().BeTrue("the callback judges the chain itself; SslStream's own build found no root on purpose");
        validator.Validate(this, foreign, null, System.Net.Security.SslPolicyErrors.None).Should().BeFalse("another CA with the same name");
        validator.Validate(this, server, null, System.Net.Security.SslPolicyErrors.None).Should().BeFalse("no clientAuth EKU");
        validator.Validate(this, null, null, System.Net.Security.SslPolicyErrors.RemoteCertificateNotAvailable).Should().BeTrue("no certificate: the endpoint decides");
    }

    public void Dispose()
    {
        _authority.Dispose();
        _database?.Dispose();
    }

    private X509Certificate2 IssueHost(TimeSpan validity, ApplianceAuthority? authority = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=pc1", key, HashAlgorithmName.SHA256);
        return (authority ?? _authority).IssueHostCertificate(request, "h-0123456789abcdef", _time.GetUtcNow(), validity);
    }
}
