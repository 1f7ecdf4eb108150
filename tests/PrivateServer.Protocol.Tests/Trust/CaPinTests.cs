using System.Security.Cryptography.X509Certificates;
using PrivateServer.Certs.Authority;
using PrivateServer.Certs.Issuance;
using PrivateServer.Protocol.Trust;

namespace PrivateServer.Protocol.Tests.Trust;

public sealed class CaPinTests
{
    [Fact]
    public void TryParse_WhenGivenColonSeparatedUpperCase_AcceptsIt()
    {
        using var authority = ApplianceAuthority.Create("Pin CA", DateTimeOffset.UtcNow);
        var colons = string.Join(':', authority.Fingerprint.ToUpperInvariant().Chunk(2).Select(c => new string(c)));

        var ok = CaPin.TryParse(colons, out var pin, out _);

        ok.Should().BeTrue();
        pin!.Hex.Should().Be(authority.Fingerprint);
        pin.Matches(authority.Certificate).Should().BeTrue();
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("zz00000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("00000000000000000000000000000000000000000000000000000000000000000")]
    public void TryParse_WhenNotSixtyFourHexDigits_Refuses(string text)
    {
        CaPin.TryParse(text, out var pin, out var error).Should().BeFalse();

        pin.Should().BeNull();
        error.Should().Contain("64 hex digits");
    }

    [Fact]
    public void ValidatesServer_WhenChainEndsInPinnedCa_Accepts()
    {
        using var authority = ApplianceAuthority.Create("Pin CA", DateTimeOffset.UtcNow);
        using var leaf = authority.IssueServerCertificate([SubjectName.Parse("localhost")], DateTimeOffset.UtcNow, TimeSpan.FromDays(1));
        var pin = Pin(authority.Fingerprint);

        var ok = pin.ValidatesServer(leaf, [X509CertificateLoader.LoadCertificate(authority.Certificate.RawData)], out var error);

        ok.Should().BeTrue(error);
    }

    [Fact]
    public void ValidatesServer_WhenServerPresentsAnotherCaWithTheSameName_Refuses()
    {
        using var pinned = ApplianceAuthority.Create("Pin CA", DateTimeOffset.UtcNow);
        using var impostor = ApplianceAuthority.Create("Pin CA", DateTimeOffset.UtcNow);
        using var leaf = impostor.IssueServerCertificate([SubjectName.Parse("localhost")], DateTimeOffset.UtcNow, TimeSpan.FromDays(1));
        var pin = Pin(pinned.Fingerprint);

        var ok = pin.ValidatesServer(leaf, [X509CertificateLoader.LoadCertificate(impostor.Certificate.RawData)], out var error);

        ok.Should().BeFalse();
        error.Should().Contain("did not present the pinned appliance CA");
    }

    [Fact]
    public void ValidatesServer_WhenLeafIsNotSignedByThePresentedPinnedCa_Refuses()
    {
        using var pinned = ApplianceAuthority.Create("Pin CA", DateTimeOffset.UtcNow);
        using var other = ApplianceAuthority.Create("Other CA", DateTimeOffset.UtcNow);
        using var leaf = other.IssueServerCertificate([SubjectName.Parse("localhost")], DateTimeOffset.UtcNow, TimeSpan.FromDays(1));
        var pin = Pin(pinned.Fingerprint);

        var ok = pin.ValidatesServer(leaf, [X509CertificateLoader.LoadCertificate(pinned.Certificate.RawData)], out var error);

        ok.Should().BeFalse();
        error.Should().Contain("does not chain to the pinned appliance CA");
    }

    private static CaPin Pin(string hex)
    {
        CaPin.TryParse(hex, out var pin, out var error).Should().BeTrue(error);
        return pin!;
    }
}
