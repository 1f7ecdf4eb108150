using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PrivateServer.Certs.Authority;
using PrivateServer.Certs.Issuance;

namespace PrivateServer.Certs.Tests.Authority;

public sealed class ApplianceAuthorityTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Fact]
    public void Create_WhenCalled_MakesP384RootCaValidForTenYearsThatIssuesOnlyEndEntities()
    {
        using var authority = ApplianceAuthority.Create("Test CA", Now);

        var ca = authority.Certificate;
        ca.HasPrivateKey.Should().BeTrue();
        ca.SubjectName.RawData.Should().Equal(ca.IssuerName.RawData);
        ca.GetECDsaPublicKey()!.KeySize.Should().Be(384);
        (ca.NotAfter - ca.NotBefore).Should().BeGreaterThanOrEqualTo(TimeSpan.FromDays(3652));
        var constraints = ca.Extensions.OfType<X509BasicConstraintsExtension>().Single();
        constraints.CertificateAuthority.Should().BeTrue();
        constraints.Critical.Should().BeTrue();
        constraints.HasPathLengthConstraint.Should().BeTrue();
        constraints.PathLengthConstraint.Should().Be(0);
        var usage = ca.Extensions.OfType<X509KeyUsageExtension>().Single();
        usage.KeyUsages.Should().HaveFlag(X509KeyUsageFlags.KeyCertSign).And.HaveFlag(X509KeyUsageFlags.CrlSign);
    }

    [Fact]
    public void Fingerprint_WhenRead_IsSha256OfTheDerCertificate()
    {
        using var authority = ApplianceAuthority.Create("Test CA", Now);

        authority.Fingerprint.Should().Be(Convert.ToHexStringLower(SHA256.HashData(authority.Certificate.RawData)));
        authority.Fingerprint.Should().MatchRegex("^[0-9a-f]{64}$");
    }

    [Fact]
    public void IssueServerCertificate_WhenChainBuiltAgainstApplianceRootOnly_IsValid()
    {
        using var authority = ApplianceAuthority.Create("Test CA", Now);
        using var server = authority.IssueServerCertificate(Names("rs.example.internal", "10.1.2.3"), DateTimeOffset.UtcNow, TimeSpan.FromDays(397));

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(X509CertificateLoader.LoadCertificate(authority.Certificate.RawData));
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(ServerCertificatePolicy.ServerAuthOid));
        var built = chain.Build(server);

        built.Should().BeTrue(string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
        chain.ChainElements.Count.Should().Be(2);
    }

    [Fact]
    public void IssueServerCertificate_WhenChainBuiltAgainstAnotherRootWithTheSameName_IsRejected()
    {
        using var authority = ApplianceAuthority.Create("Test CA", Now);
        using var impostor = ApplianceAuthority.Create("Test CA", Now);
        using var server = authority.IssueServerCertificate(Names("localhost"), DateTimeOffset.UtcNow, TimeSpan.FromDays(30));

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(X509CertificateLoader.LoadCertificate(impostor.Certificate.RawData));
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;

        chain.Build(server).Should().BeFalse();
    }

    [Fact]
    public void IssueServerCertificate_WhenIssued_CarriesEveryNameAsSanAndServerAuthOnly()
    {
        using var authority = ApplianceAuthority.Create("Test CA", Now);
        var names = ServerCertificatePolicy.WithLoopbackNames(Names("rs.example.internal", "10.1.2.3"));

        using var server = authority.IssueServerCertificate(names, Now, TimeSpan.FromDays(397));

        var san = server.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        san.EnumerateDnsNames().Should().BeEquivalentTo("rs.example.internal", "localhost");
        san.EnumerateIPAddresses().Should().BeEquivalentTo([IPAddress.Parse("10.1.2.3"), IPAddress.Loopback, IPAddress.IPv6Loopback]);
        server.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<Oid>()
            .Select(o => o.Value).Should().Equal(ServerCertificatePolicy.ServerAuthOid);
        server.Extensions.OfType<X509KeyUsageExtension>().Single().KeyUsages.Should().Be(X509KeyUsageFlags.DigitalSignature);
        server.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority.Should().BeFalse();
        server.GetECDsaPublicKey()!.KeySize.Should().Be(256);
        server.MatchesHostname("rs.example.internal").Should().BeTrue();
        server.MatchesHostname("other.example.internal").Should().BeFalse();
    }

    [Fact]
    public void IssueServerCertificate_WhenIssued_IsValidAtMost397DaysAndNeverLongerThanTheCa()
    {
        using var authority = ApplianceAuthority.Create("Test CA", Now);
        var nearCaExpiry = Now + ApplianceAuthority.Lifetime - TimeSpan.FromDays(10);

        using var server = authority.IssueServerCertificate(Names("localhost"), Now, TimeSpan.FromDays(397));
        using var late = authority.IssueServerCertificate(Names("localhost"), nearCaExpiry, TimeSpan.FromDays(397));

        (server.NotAfter - server.NotBefore).Should().BeLessThanOrEqualTo(TimeSpan.FromDays(397) + TimeSpan.FromMinutes(5));
        server.NotBefore.Should().BeOnOrBefore(Now.UtcDateTime).And.BeOnOrAfter(authority.Certificate.NotBefore);
        late.NotAfter.Should().BeOnOrBefore(authority.Certificate.NotAfter);
        var act = () => authority.IssueServerCertificate(Names("localhost"), Now, TimeSpan.FromDays(398));
        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void IssueServerCertificate_WhenIssuedRightAfterTheCa_StartsNoEarlierThanTheCa()
    {
        using var authority = ApplianceAuthority.Create("Test CA", Now);

        using var server = authority.IssueServerCertificate(Names("localhost"), Now - TimeSpan.FromMinutes(1), TimeSpan.FromDays(1));

        server.NotBefore.Should().BeOnOrAfter(authority.Certificate.NotBefore);
    }

    [Fact]
    public void IssueServerCertificate_WhenIssuedTwice_UsesDistinctPositiveSerialsAndKeys()
    {
        using var authority = ApplianceAuthority.Create("Test CA", Now);

        using var first = authority.IssueServerCertificate(Names("localhost"), Now, TimeSpan.FromDays(1));
        using var second = authority.IssueServerCertificate(Names("localhost"), Now, TimeSpan.FromDays(1));

        first.SerialNumberBytes.ToArray().Should().NotEqual(second.SerialNumberBytes.ToArray());
        // X509 serials are big-endian in SerialNumberBytes; the top bit must be clear (positive INTEGER).
        var encoded = new AsnReader(first.RawData, AsnEncodingRules.DER).ReadSequence().ReadSequence();
        if (encoded.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0)))
        {
            encoded.ReadEncodedValue();
        }

        encoded.ReadInteger().Sign.Should().Be(1);
        first.GetPublicKeyString().Should().NotBe(second.GetPublicKeyString());
    }

    private static List<SubjectName> Names(params string[] names) => names.Select(SubjectName.Parse).ToList();
}
