using PrivateServer.Protocol.Transport;

namespace PrivateServer.Protocol.Tests.Transport;

public sealed class ProxyTunnelTests
{
    [Fact]
    public void Resolve_PrefersTheOptionOverTheEnvironment()
    {
        var proxy = ProxyTunnel.Resolve("http://proxy.example.internal:3128", _ => "http://other:8080");

        proxy.Should().Be(new Uri("http://proxy.example.internal:3128"));
    }

    [Fact]
    public void Resolve_WithoutOption_UsesHttpsProxyAndAcceptsHostPortAlone()
    {
        var proxy = ProxyTunnel.Resolve(null, name => name == "https_proxy" ? "proxy.example.internal:3128" : null);

        proxy.Should().Be(new Uri("http://proxy.example.internal:3128"));
    }

    [Fact]
    public void Resolve_WithNothingSet_IsDirect()
    {
        ProxyTunnel.Resolve(null, _ => null).Should().BeNull();
    }

    [Theory]
    [InlineData("https://proxy:3128")]
    [InlineData("socks5://proxy:1080")]
    [InlineData("http://")]
    public void Resolve_WithAnUnsupportedProxy_SaysSo(string text)
    {
        var resolve = () => ProxyTunnel.Resolve(text, _ => null);

        resolve.Should().Throw<ArgumentException>().WithMessage("*http://HOST:PORT*");
    }
}
