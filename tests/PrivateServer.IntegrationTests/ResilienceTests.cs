using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>The host behaves like an installed service: it survives server restarts and works through the company proxy.</summary>
public sealed class ResilienceTests
{
    [Fact]
    public async Task ServerRestart_AfterACompanyCertificateWasImported_HostComesBackOnlineByItself_AndTheCertificateStays()
    {
        using var deadline = TestDeadline.Start(180);
        using var company = await CompanyCa.CreateAsync(deadline.Token);
        var certificate = await company.IssueAsync("server", ["rs.example.internal", "localhost"], 90, deadline.Token);
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        var state = await rig.EnrollHostAsync("pc1", deadline.Token);
        var host = await rig.StartHostAsync(state, deadline.Token, "--service", "screen=127.0.0.1:5999");
        var port = rig.Appliance.Port;
        var imported = await SupportRig.MustAsync(rig.Appliance.CliAsync(
            deadline.Token, "cert", "import", "--cert", certificate.Certificate, "--key", certificate.Key, "--ca-file", company.RootPem));

        using var companyRoot = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(company.RootPem, deadline.Token));
        rig.Appliance.BrowserRoot = companyRoot;
        await rig.Appliance.StopAsync(deadline.Token);
        await host.WaitForStderrAsync("Offline: ", deadline.Token);
        await Task.Delay(1500, deadline.Token);
        await rig.Appliance.RunAsync(deadline.Token, port);
        await host.WaitForStderrAsync("Online as ", deadline.Token, skip: 1);
        var list = await rig.Appliance.CliAsync(deadline.Token, "host", "list");
        var served = await CompanyCa.PresentedFingerprintAsync(port, "rs.example.internal", deadline.Token);

        list.Stdout.Should().StartWith("pc1\t").And.Contain("\tonline\t");
        host.HasExited.Should().BeFalse();
        served.Should().Be(imported.Stdout.Trim(), "the imported certificate is served after the restart too");
    }

    [Fact]
    public async Task HostAndSupporter_ThroughTinyproxy_ConnectWithHttpConnect()
    {
        using var deadline = TestDeadline.Start();
        await using var proxy = await TinyProxy.StartAsync(deadline.Token);
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await using var echo = EchoServer.Start();
        var state = await rig.EnrollHostAsync("pc1", deadline.Token);

        var host = rig.Track(ChildProcess.Start(
            Programs.Host, ["run", "--state", state, "--service", $"echo=127.0.0.1:{echo.Port}"],
            new Dictionary<string, string> { ["HTTPS_PROXY"] = proxy.Url }));
        await host.WaitForStderrAsync("Online as ", deadline.Token);
        var connect = rig.StartConnect("pc1", "--forward", "echo=0", "--proxy", proxy.Url);
        var port = await SupportRig.ForwardPortAsync(connect, "echo", deadline.Token);
        var payload = System.Security.Cryptography.RandomNumberGenerator.GetBytes(1024 * 1024);
        var echoed = await SessionTests.RoundTripAsync(port, payload, deadline.Token);

        echoed.Should().Equal(payload);
        var tunnels = proxy.Log.Split('\n').Count(l => l.Contains($"CONNECT 127.0.0.1:{rig.Appliance.Port} ", StringComparison.Ordinal));
        tunnels.Should().BeGreaterThanOrEqualTo(4, "control channels and both relay halves went through the proxy");
    }
}
