using PrivateServer.Protocol.Sessions;

namespace PrivateServer.Protocol.Tests.Sessions;

public sealed class SessionPermissionsTests
{
    [Theory]
    [InlineData("view", true)]
    [InlineData("control", true)]
    [InlineData("tunnel:screen", true)]
    [InlineData("tunnel:rdp-2", true)]
    [InlineData("tunnel:", false)]
    [InlineData("tunnel:Screen", false)]
    [InlineData("tunnel:../etc", false)]
    [InlineData("tunnel:a b", false)]
    [InlineData("files", true)]
    [InlineData("tunnel:files", false)]
    [InlineData("sysinfo", true)]
    [InlineData("tunnel:sysinfo", false)]
    [InlineData("chat", true)]
    [InlineData("admin", false)]
    public void IsKnown_AcceptsOnlyTheProtocolsPermissions(string permission, bool known)
    {
        SessionPermissions.IsKnown(permission).Should().Be(known);
    }

    [Fact]
    public void Describe_ReadsLikeAPersonWouldSayIt()
    {
        SessionPermissions.Describe(["view", "control", "tunnel:screen"]).Should().Be("view, control, tunnel screen");
    }

    [Fact]
    public void ForStream_TheFileServiceNeedsFiles_OtherServicesTheirTunnel()
    {
        SessionPermissions.ForStream("files").Should().Be("files");
        SessionPermissions.ForStream("screen").Should().Be("tunnel:screen");
    }
}
