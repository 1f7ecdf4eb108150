using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using PrivateServer.IntegrationTests.Infrastructure;

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

        using var socket = await ModuleSocket.ConnectAsync(rig.Appliance, "api/v1/host/connect", certificate, null, deadline.Token);
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
        (await SessionTests.EchoOnceAsync(stream, deadline.Token)).Should().BeTrue("the server keeps serving everyone else");
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
    public async Task Relay_WithAnUnknownTicketOrWithoutIdentity_IsRefusedWithoutUpgrading()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        var token = await BearerAsync(rig, deadline.Token);
        using var client = ModuleSocket.CreateClient(rig.Appliance, null);

        using var unknown = await RelayAsync(client, "forged-ticket-0000000000000000000000000000", token, deadline.Token);
        using var anonymous = await RelayAsync(client, "forged-ticket-0000000000000000000000000000", null, deadline.Token);

        unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await unknown.Content.ReadAsStringAsync(deadline.Token)).Should().Contain("unknown, used or expired stream ticket");
        anonymous.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        rig.Appliance.Server.Stderr.Should().Contain("A relay ticket presented by alice");
    }

    private static async Task<HttpResponseMessage> RelayAsync(HttpClient client, string ticket, string? bearer, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/relay");
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new System.Net.Http.Headers.ProductHeaderValue("privateserver-relay"));
        request.Headers.Add("PrivateServer-Stream-Ticket", ticket);
        if (bearer is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        }

        return await client.SendAsync(request, cancellationToken);
    }

    private static async Task<string> BearerAsync(SupportRig rig, CancellationToken cancellationToken)
    {
        using var login = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(rig.SupporterState, "login.json"), cancellationToken));
        return login.RootElement.GetProperty("token").GetString()!;
    }

    private static async Task<WebSocketCloseStatus?> CloseStatusAsync(ClientWebSocket socket, CancellationToken cancellationToken)
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
}
