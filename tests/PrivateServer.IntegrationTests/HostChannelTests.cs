using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>An idle host's control channel: what it costs the server, and that the host stays online.</summary>
public sealed class HostChannelTests
{
    private const int HeartbeatSeconds = 2;

    [Fact]
    public async Task IdleHost_SendingHeartbeats_IsAnsweredEverySecondOneAndStaysOnline()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(
            deadline.Token, environment: new Dictionary<string, string> { ["PRIVATESERVER__Broker__HeartbeatSeconds"] = $"{HeartbeatSeconds}" });
        var module = await rig.StartHostAsync(await rig.EnrollHostAsync("pc-module", deadline.Token), deadline.Token);
        using var certificate = ModuleSocket.LoadHostCertificate(await rig.EnrollHostAsync("pc-raw", deadline.Token));
        using var socket = await ModuleSocket.ConnectHostChannelAsync(rig.Appliance, certificate, deadline.Token);
        await SendAsync(socket, """{"type":"hello","version":1,"name":"pc-raw","os":"test","moduleVersion":"1","services":[]}""", deadline.Token);
        var welcome = await ReceiveAsync(socket, deadline.Token);

        // Six heartbeats one interval apart, as a host sends them; count what comes back meanwhile.
        var answers = new List<TimeSpan>();
        var clock = Stopwatch.StartNew();
        var reading = Task.Run(
            async () =>
            {
                try
                {
                    while (await ReceiveAsync(socket, deadline.Token) is { } message)
                    {
                        if (message.Contains("\"type\":\"heartbeat\"", StringComparison.Ordinal))
                        {
                            lock (answers)
                            {
                                answers.Add(clock.Elapsed);
                            }
                        }
                    }
                }
                catch (WebSocketException)
                {
                    // The server let go once we closed: all answers are in.
                }
            },
            deadline.Token);
        for (var beat = 0; beat < 6; beat++)
        {
            await Task.Delay(TimeSpan.FromSeconds(HeartbeatSeconds), deadline.Token);
            await SendAsync(socket, """{"type":"heartbeat","version":1}""", deadline.Token);
        }

        await Task.Delay(TimeSpan.FromSeconds(1), deadline.Token);
        var list = await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "host", "list"));
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", deadline.Token);
        await reading.WaitAsync(TimeSpan.FromSeconds(10), deadline.Token);

        welcome.Should().Contain("\"type\":\"welcome\"").And.Contain($"\"heartbeatSeconds\":{HeartbeatSeconds}");
        answers.Should().HaveCount(3, "the server answers every second heartbeat");
        answers.Zip(answers.Skip(1), (a, b) => b - a).Should().OnlyContain(gap => gap < TimeSpan.FromSeconds(3 * HeartbeatSeconds), "a host gives up after three silent intervals");
        list.Stdout.Should().MatchRegex(@"(?m)^pc-module\t[^\n]*\tonline\t").And.MatchRegex(@"(?m)^pc-raw\t[^\n]*\tonline\t");
        module.Stderr.Should().NotContain("Offline", "the host module's own watchdog is content with every second answer");
    }

    [Fact]
    public async Task HostChannel_ClosedByTheHostOrByRevocation_EndsWithoutAnErrorOnTheServer()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        using var leaving = ModuleSocket.LoadHostCertificate(await rig.EnrollHostAsync("pc-leaving", deadline.Token));
        using var revoked = ModuleSocket.LoadHostCertificate(await rig.EnrollHostAsync("pc-revoked", deadline.Token));
        using var first = await ModuleSocket.ConnectHostChannelAsync(rig.Appliance, leaving, deadline.Token);
        using var second = await ModuleSocket.ConnectHostChannelAsync(rig.Appliance, revoked, deadline.Token);
        await SendAsync(first, """{"type":"hello","version":1,"name":"pc-leaving","os":"test","moduleVersion":"1","services":[]}""", deadline.Token);
        await SendAsync(second, """{"type":"hello","version":1,"name":"pc-revoked","os":"test","moduleVersion":"1","services":[]}""", deadline.Token);
        await ReceiveAsync(first, deadline.Token);
        await ReceiveAsync(second, deadline.Token);

        await first.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", deadline.Token);
        await rig.Appliance.Server.WaitForStderrAsync("Host pc-leaving \\([^)]*\\) offline", deadline.Token);
        var revoke = await rig.Appliance.CliAsync(deadline.Token, "host", "revoke", "pc-revoked");
        await rig.Appliance.Server.WaitForStderrAsync("Host pc-revoked \\([^)]*\\) offline: the host was revoked", deadline.Token);
        await Task.Delay(TimeSpan.FromSeconds(1), deadline.Token);

        revoke.ExitCode.Should().Be(0, revoke.Stderr);
        rig.Appliance.Server.Stderr.Should().NotContain("[ERR]").And.NotContain("Exception", "a channel's end is no error, whoever ends it");
    }

    private static Task SendAsync(WebSocket socket, string json, CancellationToken cancellationToken) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    private static async Task<string?> ReceiveAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var length = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            length += result.Count;
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(buffer, 0, length);
            }
        }
    }
}
