using System.Net;
using PrivateServer.Appliance.Hosting;

namespace PrivateServer.Appliance.Tests.Hosting;

public sealed class ListenAddressTests
{
    [Fact]
    public void ParseAll_WhenGivenSeveralForms_ListensWhereAsked()
    {
        var addresses = ListenAddress.ParseAll("https://127.0.0.1:8443; https://localhost:9443;https://*:443;https://[::1]:7443");

        addresses.Select(a => a.EndPoint).Should().Equal(
            new IPEndPoint(IPAddress.Loopback, 8443),
            new IPEndPoint(IPAddress.Loopback, 9443),
            new IPEndPoint(IPAddress.IPv6Loopback, 9443),
            new IPEndPoint(IPAddress.IPv6Any, 443),
            new IPEndPoint(IPAddress.IPv6Loopback, 7443));
    }

    [Fact]
    public void ParseAll_WhenPortIsOmitted_Uses443()
    {
        ListenAddress.ParseAll("https://10.1.2.3").Single().EndPoint.Should().Be(new IPEndPoint(IPAddress.Parse("10.1.2.3"), 443));
    }

    [Theory]
    [InlineData("http://127.0.0.1:80", "HTTPS only")]
    [InlineData("https://rs.example.internal:443", "not on the name")]
    [InlineData("not a url", "not a listen address")]
    [InlineData("https://127.0.0.1:443/path", "not a listen address")]
    [InlineData(" ; ", "no address")]
    public void ParseAll_WhenUrlIsNotServable_SaysWhy(string urls, string reason)
    {
        var act = () => ListenAddress.ParseAll(urls);

        act.Should().Throw<ConfigurationException>().WithMessage($"*{reason}*");
    }
}
