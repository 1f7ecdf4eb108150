using PrivateServer.Server.Web.Profile;

namespace PrivateServer.Server.Tests.Web;

public sealed class ProfilePicturesTests
{
    [Fact]
    public void Sniff_KnowsPngAndJpegByTheirFirstBytes_AndNothingElse()
    {
        ProfilePictures.Sniff([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0]).Should().Be("image/png");
        ProfilePictures.Sniff([0xFF, 0xD8, 0xFF, 0xE0]).Should().Be("image/jpeg");
        ProfilePictures.Sniff("<svg onload=alert(1)>"u8).Should().BeNull();
        ProfilePictures.Sniff("GIF89a"u8).Should().BeNull();
        ProfilePictures.Sniff([]).Should().BeNull();
    }

    [Theory]
    [InlineData("alice", ">A<")]
    [InlineData("bob.smith", ">BS<")]
    [InlineData("mary-jane_watson", ">MJ<")]
    public void InitialsSvg_DrawsTheInitials_WithoutReferencingAnythingOutside(string name, string initials)
    {
        var svg = ProfilePictures.InitialsSvg(name);

        svg.Should().Contain(initials).And.StartWith("<svg ").And.NotContain("href").And.NotContain("<script");
        ProfilePictures.InitialsSvg(name).Should().Be(svg, "the same name gets the same colour");
    }
}
