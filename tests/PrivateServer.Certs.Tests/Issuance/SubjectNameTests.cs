using PrivateServer.Certs.Issuance;

namespace PrivateServer.Certs.Tests.Issuance;

public sealed class SubjectNameTests
{
    [Theory]
    [InlineData("rs.example.internal", "rs.example.internal", false)]
    [InlineData("RS.Example.Internal", "rs.example.internal", false)]
    [InlineData("10.1.2.3", "10.1.2.3", true)]
    [InlineData("::1", "::1", true)]
    [InlineData("localhost", "localhost", false)]
    public void TryParse_WhenValid_NormalisesTheName(string text, string expected, bool isIp)
    {
        var ok = SubjectName.TryParse(text, out var name, out _);

        ok.Should().BeTrue();
        name!.Value.Should().Be(expected);
        name.IsIpAddress.Should().Be(isIp);
    }

    [Theory]
    [InlineData("")]
    [InlineData("two words")]
    [InlineData("-leading.example")]
    [InlineData("trailing-.example")]
    [InlineData("a..b")]
    [InlineData("under_score.example")]
    [InlineData("fe80::1%eth0")]
    public void TryParse_WhenInvalid_ExplainsWhy(string text)
    {
        var ok = SubjectName.TryParse(text, out var name, out var error);

        ok.Should().BeFalse();
        name.Should().BeNull();
        error.Should().NotBeNullOrWhiteSpace();
    }

    [Fact]
    public void WithLoopbackNames_WhenConfiguredNamesRepeatLoopback_ListsEachNameOnce()
    {
        var names = ServerCertificatePolicy.WithLoopbackNames([SubjectName.Parse("localhost"), SubjectName.Parse("rs.example.internal")]);

        names.Select(n => n.Value).Should().Equal("localhost", "rs.example.internal", "127.0.0.1", "::1");
    }
}
