using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Time.Testing;
using PrivateServer.Certs.Authority;
using PrivateServer.Certs.Issuance;
using PrivateServer.Protocol.Trust;

namespace PrivateServer.Protocol.Tests.Trust;

public sealed class VerifiedCertificatesTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
    private readonly ApplianceAuthority _authority;

    public VerifiedCertificatesTests()
    {
        _authority = ApplianceAuthority.Create("Verified CA", _time.GetUtcNow());
    }

    [Fact]
    public void Contains_WhenItsChainWasVerified_IsTrueUntilTheCertificateExpires()
    {
        using var leaf = _authority.IssueServerCertificate([SubjectName.Parse("localhost")], _time.GetUtcNow(), TimeSpan.FromMinutes(30));
        var verified = new VerifiedCertificates(_time, capacity: 10);
        using var chain = Build(leaf);

        verified.Add(leaf, chain);
        var before = verified.Contains(X509CertificateLoader.LoadCertificate(leaf.RawData));
        _time.Advance(TimeSpan.FromMinutes(31));
        var after = verified.Contains(leaf);

        before.Should().BeTrue("the same bytes were verified");
        after.Should().BeFalse("the certificate has expired since");
    }

    [Fact]
    public void Contains_AfterItsLifetime_IsFalse_SoTheChainIsCheckedAgain()
    {
        using var leaf = _authority.IssueServerCertificate([SubjectName.Parse("localhost")], _time.GetUtcNow(), TimeSpan.FromDays(30));
        var verified = new VerifiedCertificates(_time, capacity: 10);
        using var chain = Build(leaf);
        verified.Add(leaf, chain);

        _time.Advance(VerifiedCertificates.Lifetime);

        verified.Contains(leaf).Should().BeFalse();
    }

    [Fact]
    public void Contains_ForAnotherCertificateWithTheSameNameAndKey_IsFalse()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=pc1", key, HashAlgorithmName.SHA256);
        using var first = _authority.IssueHostCertificate(request, "h1", _time.GetUtcNow(), TimeSpan.FromDays(30));
        using var second = _authority.IssueHostCertificate(request, "h1", _time.GetUtcNow(), TimeSpan.FromDays(30));
        var verified = new VerifiedCertificates(_time, capacity: 10);
        using var chain = Build(first);

        verified.Add(first, chain);

        verified.Contains(first).Should().BeTrue();
        verified.Contains(second).Should().BeFalse("only the exact bytes that were verified count");
    }

    [Fact]
    public void Remove_ByItsUpperCaseSha256_ForgetsIt()
    {
        using var leaf = _authority.IssueServerCertificate([SubjectName.Parse("localhost")], _time.GetUtcNow(), TimeSpan.FromDays(1));
        var verified = new VerifiedCertificates(_time, capacity: 10);
        using var chain = Build(leaf);
        verified.Add(leaf, chain);

        verified.Remove("not a thumbprint");
        var kept = verified.Contains(leaf);
        verified.Remove(leaf.GetCertHashString(HashAlgorithmName.SHA256).ToUpperInvariant());

        kept.Should().BeTrue();
        verified.Contains(leaf).Should().BeFalse();
    }

    [Fact]
    public void Add_BeyondCapacity_StartsOverInsteadOfGrowing()
    {
        var verified = new VerifiedCertificates(_time, capacity: 2);
        var leaves = Enumerable.Range(0, 3)
            .Select(_ => _authority.IssueServerCertificate([SubjectName.Parse("localhost")], _time.GetUtcNow(), TimeSpan.FromDays(1)))
            .ToList();

        foreach (var leaf in leaves)
        {
            using var chain = Build(leaf);
            verified.Add(leaf, chain);
        }

        leaves.Count(verified.Contains).Should().Be(1, "the third certificate found the list full and cleared it");
        verified.Contains(leaves[2]).Should().BeTrue();
        leaves.ForEach(l => l.Dispose());
    }

    [Fact]
    public void ValidatesServer_WithVerifiedCertificates_ChecksALeafOnceAndNeverLetsAnImpostorIn()
    {
        // CaPin checks chains at the real time.
        var now = DateTimeOffset.UtcNow;
        using var authority = ApplianceAuthority.Create("Verified CA", now);
        using var impostor = ApplianceAuthority.Create("Verified CA", now);
        using var leaf = authority.IssueServerCertificate([SubjectName.Parse("localhost")], now, TimeSpan.FromDays(1));
        using var forged = impostor.IssueServerCertificate([SubjectName.Parse("localhost")], now, TimeSpan.FromDays(1));
        CaPin.TryParse(authority.Fingerprint, out var pin, out _).Should().BeTrue();
        var verified = new VerifiedCertificates(TimeProvider.System, capacity: 10);
        var ca = X509CertificateLoader.LoadCertificate(authority.Certificate.RawData);

        var first = pin!.ValidatesServer(leaf, [ca], verified, out _);
        var again = pin.ValidatesServer(leaf, [], verified, out _);
        var impostorPresented = pin.ValidatesServer(forged, [X509CertificateLoader.LoadCertificate(impostor.Certificate.RawData)], verified, out var refusal);
        var impostorWithOurCa = pin.ValidatesServer(forged, [ca], verified, out var chainRefusal);

        first.Should().BeTrue();
        again.Should().BeTrue("the same leaf passed against this pin before");
        impostorPresented.Should().BeFalse();
        refusal.Should().Contain("did not present the pinned appliance CA");
        impostorWithOurCa.Should().BeFalse();
        chainRefusal.Should().Contain("does not chain to the pinned appliance CA");
    }

    public void Dispose() => _authority.Dispose();

    private X509Chain Build(X509Certificate2 leaf)
    {
        var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(X509CertificateLoader.LoadCertificate(_authority.Certificate.RawData));
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = _time.GetLocalNow().DateTime;
        chain.Build(leaf).Should().BeTrue();
        return chain;
    }
}
