using System.Collections;
using PrivateServer.Appliance.Hosting;

namespace PrivateServer.Appliance.Tests.Hosting;

public sealed class ApplianceConfigurationTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ps-config-").FullName;

    private string NoDefaultFile => Path.Combine(_folder, "absent.json");

    [Fact]
    public void Build_WhenNothingIsGiven_UsesTheEmbeddedDefaults()
    {
        var configuration = ApplianceConfiguration.Build(null, new Hashtable(), new Dictionary<string, string?>(), NoDefaultFile);

        configuration["Appliance:DataDirectory"].Should().Be("./data");
        configuration["Appliance:Urls"].Should().Be("https://0.0.0.0:443");
        configuration["Logs:RetainedFiles"].Should().Be("30");
    }

    [Fact]
    public void Build_WhenEverySourceSetsAKey_FlagsBeatEnvironmentBeatFileBeatDefaults()
    {
        var file = Path.Combine(_folder, "privateserver.json");
        File.WriteAllText(file, """{ "Appliance": { "DataDirectory": "/from/file", "Urls": "https://10.0.0.1:443" }, "Logs": { "RetainedFiles": 7 } }""");
        var environment = new Hashtable
        {
            ["PRIVATESERVER__Appliance__Urls"] = "https://10.0.0.2:443",
            ["PRIVATESERVER__Appliance__DataDirectory"] = "/from/env",
            ["ASPNETCORE_URLS"] = "http://0.0.0.0:80",
        };
        var flags = new Dictionary<string, string?> { ["Appliance:DataDirectory"] = "/from/flag" };

        var configuration = ApplianceConfiguration.Build(file, environment, flags, NoDefaultFile);

        configuration["Appliance:DataDirectory"].Should().Be("/from/flag");
        configuration["Appliance:Urls"].Should().Be("https://10.0.0.2:443");
        configuration["Logs:RetainedFiles"].Should().Be("7");
        configuration["Logs:Level"].Should().Be("Information");
    }

    [Fact]
    public void Build_WhenNoConfigFlagButDefaultFileExists_ReadsTheDefaultFile()
    {
        var defaultFile = Path.Combine(_folder, "etc.json");
        File.WriteAllText(defaultFile, """{ "Appliance": { "Urls": "https://10.9.8.7:443" } }""");

        var configuration = ApplianceConfiguration.Build(null, new Hashtable(), new Dictionary<string, string?>(), defaultFile);

        configuration["Appliance:Urls"].Should().Be("https://10.9.8.7:443");
    }

    [Fact]
    public void Build_WhenGivenConfigFileIsMissing_SaysWhichFile()
    {
        var missing = Path.Combine(_folder, "nope.json");

        var act = () => ApplianceConfiguration.Build(missing, new Hashtable(), new Dictionary<string, string?>(), NoDefaultFile);

        act.Should().Throw<ConfigurationException>().WithMessage($"*{missing}*does not exist*");
    }

    [Fact]
    public void Build_WhenConfigFileIsNotJson_SaysWhichFileInOneLine()
    {
        var file = Path.Combine(_folder, "broken.json");
        File.WriteAllText(file, "{ \"Appliance\": ");

        var act = () => ApplianceConfiguration.Build(file, new Hashtable(), new Dictionary<string, string?>(), NoDefaultFile);

        act.Should().Throw<ConfigurationException>().Which.Message.Should().Contain(file).And.NotContain("\n");
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
