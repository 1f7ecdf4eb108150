using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using PrivateServer.IntegrationTests.Infrastructure;
using PrivateServer.Protocol.Relay;

namespace PrivateServer.IntegrationTests;

/// <summary>Garbled or oversized control messages and forged stream tickets close that connection only; everyone else keeps being served.</summary>
public sealed class ProtocolAbuseTests
{
    [Theory]
    [InlineData("garbled", 1007)]
    [InlineData("oversized", 1009)]
    [InlineData("unknown-type", 1007)]
    [InlineData("other-version", 1008)]
    public async Task HostChannel_WithABadMessage_IsClosedAndOtherHostsStayServed(string kind, int expectedStatus)
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await using var echo = EchoServer.Start();
        var good = await rig.EnrollHostAsync("good", deadline.Token);
        await rig.StartHostAsync(good, deadline.Token, "--service", $"echo=127.0.0.1:{echo.Port}");
        var bad = await rig.EnrollHostAsync("bad", deadline.Token);
        using var certificate = ModuleSocket.LoadHostCertificate(bad);

        using var socket = await ModuleSocket.ConnectHostChannelAsync(rig.Appliance, certificate, deadline.Token);
        var message = kind switch
        {
            "garbled" => "{\"type\":\"hello\",\"name\":",
            "oversized" => "{\"type\":\"hello\",\"name\":\"" + new string('x', 70 * 1024) + "\"}",
            "unknown-type" => "{\"type\":\"shell.exec\",\"version\":1,\"command\":\"rm -rf /\"}",
            _ => "{\"type\":\"hello\",\"version\":99,\"name\":\"bad\",\"os\":\"x\",\"moduleVersion\":\"9\",\"services\":[]}",
        };
        await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, deadline.Token);
        var status = await CloseStatusAsync(socket, deadline.Token);
        var connect = rig.StartConnect("good", "--forward", "echo=0");
        var port = await SupportRig.ForwardPortAsync(connect, "echo", deadline.Token);
        using var stream = await SessionTests.OpenAsync(port, deadline.Token);

        ((int?)status).Should().Be(expectedStatus);
        (await SessionTests.EchoOnceAsync(stream, deadline.Token)).Should().BeTrue(
            "the server keeps serving everyone else (supporter said: {0}; server said: {1})", connect.Stderr, rig.Appliance.Server.Stderr);
        rig.Appliance.Server.HasExited.Should().BeFalse();
    }

    [Fact]
    public async Task SessionChannel_WithGarbage_IsClosedWithInvalidPayload()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        var token = await BearerAsync(rig, deadline.Token);

        using var socket = await ModuleSocket.ConnectAsync(rig.Appliance, "api/v1/sessions/connect", null, token, deadline.Token);
        await socket.SendAsync("session please, no JSON today {{{"u8.ToArray(), WebSocketMessageType.Text, true, deadline.Token);
        var status = await CloseStatusAsync(socket, deadline.Token);

        ((int?)status).Should().Be(1007);
    }

    [Fact]
    public async Task Relay_WithoutIdentity_IsRefusedWithoutUpgrading()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        using var client = ModuleSocket.CreateClient(rig.Appliance, null);

        using var anonymous = await RelayAsync(client, null, deadline.Token);

        anonymous.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Relay_WithAnUnknownTicket_AnswersRefusedAndCloses()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await using var upgraded = await UpgradedRelay.OpenAsync(rig, deadline.Token);
        var stream = upgraded.Stream;

        var claim = async () => await RelayClaim.ClaimAsync(stream, "forged-ticket-0000000000000000000000000000", deadline.Token);

        await claim.Should().ThrowAsync<RelayClaimException>().WithMessage("*stream ticket was refused*");
        (await stream.ReadAsync(new byte[1], deadline.Token)).Should().Be(0, "the server closes a refused relay connection");
        await rig.Appliance.Server.WaitForStderrAsync("A relay ticket presented by alice", deadline.Token);
    }

    [Fact]
    public async Task Relay_WithAGarbledTicketLine_IsClosedAndLogged()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await using var upgraded = await UpgradedRelay.OpenAsync(rig, deadline.Token);
        var relay = upgraded.Stream;

        await relay.WriteAsync(new byte[200], deadline.Token);
        await relay.FlushAsync(deadline.Token);
        var read = await relay.ReadAsync(new byte[1], deadline.Token);

        read.Should().Be(0, "a relay connection that does not start with a claim line is closed unanswered");
        await rig.Appliance.Server.WaitForStderrAsync("broke the claim protocol: a relay claim line is too long", deadline.Token);
    }

    [Fact]
    public async Task Relay_StreamRequestsOutsideARunningSessionsRights_AreRefusedWithTheReason()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await using var echo = EchoServer.Start();
        var (host, connect, port, sessionId) = await StartEchoSessionAsync(rig, echo, deadline.Token);
        using (var forwarded = await SessionTests.OpenAsync(port, deadline.Token))
        {
            (await SessionTests.EchoOnceAsync(forwarded, deadline.Token)).Should().BeTrue("the forward asks for its streams the same way: {0}", connect.Stderr);
        }

        await using var ungranted = await UpgradedRelay.OpenAsync(rig, deadline.Token);
        await using var unknown = await UpgradedRelay.OpenAsync(rig, deadline.Token);
        using var certificate = ModuleSocket.LoadHostCertificate(host);
        using var hostClient = ModuleSocket.CreateClient(rig.Appliance, certificate);
        using var hostRelay = await RelayAsync(hostClient, null, deadline.Token);
        await using var hostStream = await hostRelay.Content.ReadAsStreamAsync(deadline.Token);

        await FluentActions.Awaiting(() => RelayClaim.RequestAsync(ungranted.Stream, sessionId, "ssh", deadline.Token))
            .Should().ThrowAsync<RelayClaimException>().WithMessage("the session was not granted the service 'ssh'");
        await FluentActions.Awaiting(() => RelayClaim.RequestAsync(unknown.Stream, "se-00000000000000000000", "echo", deadline.Token))
            .Should().ThrowAsync<RelayClaimException>().WithMessage("no session se-00000000000000000000 of yours is running");
        await FluentActions.Awaiting(() => RelayClaim.RequestAsync(hostStream, sessionId, "echo", deadline.Token))
            .Should().ThrowAsync<RelayClaimException>().WithMessage("only a supporter asks for streams*");
        await rig.Appliance.Server.WaitForStderrAsync("A stream of session se-00000000000000000000 to echo asked for by alice from 127.0.0.1 was refused", deadline.Token);
        using (var forwarded = await SessionTests.OpenAsync(port, deadline.Token))
        {
            (await SessionTests.EchoOnceAsync(forwarded, deadline.Token)).Should().BeTrue("refused requests leave the session as it was");
        }
    }

    [Fact]
    public async Task Relay_AFramedConnection_CarriesStreamsOneAfterAnother_UntilItsTokenIsTakenBack()
    {
        using var deadline = TestDeadline.Start(120);
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await using var echo = EchoServer.Start();
        var (_, _, _, sessionId) = await StartEchoSessionAsync(rig, echo, deadline.Token);
        await using var upgraded = await UpgradedRelay.OpenAsync(rig, deadline.Token, framed: true);
        var connection = upgraded.Stream;

        var echoed = new List<string>();
        var reusable = new List<bool>();
        for (var i = 0; i < 3; i++)
        {
            await RelayClaim.RequestAsync(connection, sessionId, "echo", deadline.Token);
            var stream = new FramedRelayStream(connection);
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"ping {i}\n"), deadline.Token);
            var back = new byte[7];
            await stream.ReadExactlyAsync(back, deadline.Token);
            echoed.Add(Encoding.ASCII.GetString(back));
            reusable.Add(await stream.FinishAsync(deadline.Token));
        }

        await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "user", "sign-out", SupportRig.Supporter));
        // A reused connection's identity is checked again at a claim once its last check is 5 s old.
        await Task.Delay(TimeSpan.FromSeconds(6), deadline.Token);
        var afterSignOut = () => RelayClaim.RequestAsync(connection, sessionId, "echo", deadline.Token);

        upgraded.Response.Headers.GetValues("PrivateServer-Relay-Framing").Should().Equal("1");
        echoed.Should().Equal("ping 0\n", "ping 1\n", "ping 2\n");
        reusable.Should().Equal(true, true, true);
        await afterSignOut.Should().ThrowAsync<RelayClaimException>().WithMessage("this connection's identity is no longer valid");
        await rig.Appliance.Server.WaitForStderrAsync("the identity of a reused relay connection is no longer valid", deadline.Token);
    }

    [Fact]
    public async Task Relay_AGarbledFrame_ClosesThatConnectionOnly()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await using var echo = EchoServer.Start();
        var (_, _, port, sessionId) = await StartEchoSessionAsync(rig, echo, deadline.Token);
        await using var upgraded = await UpgradedRelay.OpenAsync(rig, deadline.Token, framed: true);
        var connection = upgraded.Stream;
        await RelayClaim.RequestAsync(connection, sessionId, "echo", deadline.Token);

        await connection.WriteAsync(new byte[] { 0x7f, 0xff, 0xff, 0xff, 1, 2, 3 }, deadline.Token);
        await connection.FlushAsync(deadline.Token);
        var framed = new FramedRelayStream(connection);
        var end = await framed.ReadAsync(new byte[16], deadline.Token);
        var closed = await connection.ReadAsync(new byte[16], deadline.Token);

        end.Should().Be(0, "the server ends the stream whose frames broke the framing");
        closed.Should().Be(0, "and does not keep that connection for another stream");
        using var forwarded = await SessionTests.OpenAsync(port, deadline.Token);
        (await SessionTests.EchoOnceAsync(forwarded, deadline.Token)).Should().BeTrue("the session and its other streams go on");
    }

    /// <summary>An enrolled host serving <paramref name="echo"/> and a running session forwarding it: the host's state, the session's module, the forward's port and the session's id.</summary>
    private static async Task<(string Host, ChildProcess Connect, int Port, string SessionId)> StartEchoSessionAsync(SupportRig rig, EchoServer echo, CancellationToken cancellationToken)
    {
        var host = await rig.EnrollHostAsync("pc", cancellationToken);
        await rig.StartHostAsync(host, cancellationToken, "--service", $"echo=127.0.0.1:{echo.Port}");
        var connect = rig.StartConnect("pc", "--forward", "echo=0");
        var port = await SupportRig.ForwardPortAsync(connect, "echo", cancellationToken);
        var sessionId = (await connect.WaitForStderrAsync("Session (se-[A-Za-z0-9_-]+) with", cancellationToken)).Groups[1].Value;
        return (host, connect, port, sessionId);
    }

    private static async Task<HttpResponseMessage> RelayAsync(HttpClient client, string? bearer, CancellationToken cancellationToken, bool framed = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/relay");
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new System.Net.Http.Headers.ProductHeaderValue("privateserver-relay"));
        if (framed)
        {
            request.Headers.Add("PrivateServer-Relay-Framing", "1");
        }

        if (bearer is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        }

        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    private static async Task<string> BearerAsync(SupportRig rig, CancellationToken cancellationToken)
    {
        using var login = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(rig.SupporterState, "login.json"), cancellationToken));
        return login.RootElement.GetProperty("token").GetString()!;
    }

    private static async Task<WebSocketCloseStatus?> CloseStatusAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return result.CloseStatus;
                }
            }
        }
        catch (WebSocketException)
        {
            return null;
        }
    }

    /// <summary>A relay connection of the signed-in supporter, upgraded and not yet claimed.</summary>
    private sealed record UpgradedRelay(HttpClient Client, HttpResponseMessage Response, Stream Stream) : IAsyncDisposable
    {
        public static async Task<UpgradedRelay> OpenAsync(SupportRig rig, CancellationToken cancellationToken, bool framed = false)
        {
            var token = await BearerAsync(rig, cancellationToken);
            var client = ModuleSocket.CreateClient(rig.Appliance, null);
            var response = await RelayAsync(client, token, cancellationToken, framed);
            response.StatusCode.Should().Be(HttpStatusCode.SwitchingProtocols);
            return new UpgradedRelay(client, response, await response.Content.ReadAsStreamAsync(cancellationToken));
        }

        public async ValueTask DisposeAsync()
        {
            await Stream.DisposeAsync();
            Response.Dispose();
            Client.Dispose();
        }
    }
}
