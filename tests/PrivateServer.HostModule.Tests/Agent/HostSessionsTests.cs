using System.Globalization;
using PrivateServer.HostModule.Agent;

namespace PrivateServer.HostModule.Tests.Agent;

public sealed class HostSessionsTests
{
    private static readonly string[] Asked = ["view", "control", "tunnel:screen"];

    [Fact]
    public void DescribeRights_InEnglish_SaysWhatTheSupporterMayDo()
    {
        var text = InCulture("en", () => HostSessions.DescribeRights(Asked));

        text.Should().Be("see your screen, use your keyboard and mouse, reach the service 'screen'");
    }

    [Fact]
    public void DescribeRights_InGerman_SaysItInGerman()
    {
        var text = InCulture("de-DE", () => HostSessions.DescribeRights(Asked));

        text.Should().Be("Ihren Bildschirm sehen, Tastatur und Maus bedienen, den Dienst 'screen' erreichen");
    }

    private static string InCulture(string name, Func<string> describe)
    {
        var before = CultureInfo.CurrentUICulture;
        CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo(name);
        try
        {
            return describe();
        }
        finally
        {
            CultureInfo.CurrentUICulture = before;
        }
    }
}
