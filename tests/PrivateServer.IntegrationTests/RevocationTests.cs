using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>A revoked host is cut off within seconds, refused at the TLS handshake from then on, and stays revoked across restarts.</summary>
public sealed class RevocationTests
{
    [Fact]
    public async Task Revoke_WhileASessionRuns_ClosesChannelAndStreamsAndRefusesTheCertificateForGood()
    {
        using var deadline = TestDeadline.Start(180);
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await using var echo = EchoServer.Start();
        var state = await rig.EnrollHostAsync("pc1", deadline.Token);
        var host = await rig.StartHostAsync(state, deadline.Token, "--service", $"echo=127.0.0.1:{echo.Port}");
        var connect = rig.StartConnect("pc1", "--forward", "echo=0");
        var port = await SupportRig.ForwardPortAsync(connect, "echo", deadline.Token);
        using var stream = await SessionTests.OpenAsync(port, deadline.Token);
        (await SessionTests.EchoOnceAsync(stream, deadline.Token)).Should().BeTrue();

        var revoke = await rig.Appliance.CliAsync(deadline.Token, "host", "revoke", "pc1");
        var ended = await connect.WaitForExitAsync(deadline.Token);
        var streamAlive = await SessionTests.EchoOnceAsync(stream, deadline.Token);
        await host.WaitForStderrAsync("The server says: this host was revoked", deadline.Token);
        await host.WaitForStderrAsync("Offline: .*certificate may have been revoked", deadline.Token);
        using var certificate = ModuleSocket.LoadHostCertificate(state);
        var direct = () => ModuleSocket.ConnectAsync(rig.Appliance, "api/v1/host/connect", certificate, null, deadline.Token);
        await rig.Appliance.StopAsync(deadline.Token);
        await rig.Appliance.RunAsync(deadline.Token);
        var list = await rig.Appliance.CliAsync(deadline.Token, "host", "list");

        revoke.ExitCode.Should().Be(0, revoke.Stderr);
        ended.StderrLines.Should().Contain("privateserver-supporter: the session ended: the host was revoked");
        streamAlive.Should().BeFalse();
        await direct.Should().ThrowAsync<Exception>("the handshake with a revoked certificate is refused after a restart too");
        list.Stdout.Should().Contain("\trevoked\t");
    }
}
