using System.Net.Sockets;
using System.Security.Cryptography;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>Sessions through the relay: consent on the host, streams to granted services, the emergency stop.</summary>
public sealed class SessionTests
{
    [Fact]
    public async Task Connect_WithAutoConsent_CarriesHundredMebibytesByteExactBothWays()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token, consent: "auto");
        await using var echo = EchoServer.Start();
        var state = await rig.EnrollHostAsync("pc1", deadline.Token);
        var host = await rig.StartHostAsync(state, deadline.Token, "--service", $"echo=127.0.0.1:{echo.Port}");

        var connect = rig.StartConnect("pc1", "--forward", "echo=0");
        var port = await SupportRig.ForwardPortAsync(connect, "echo", deadline.Token);
        var payload = RandomNumberGenerator.GetBytes(100 * 1024 * 1024);
        var echoed = await RoundTripAsync(port, payload, deadline.Token);

        SHA256.HashData(echoed).Should().Equal(SHA256.HashData(payload));
        host.Stderr.Should().Contain($"{SupportRig.Supporter} connects with: see your screen, use your keyboard and mouse, reach the service 'echo', chat with you. Allowed by policy without asking.");
        rig.Appliance.Server.Stderr.Should().Contain("consent auto");
    }

    [Fact]
    public async Task Connect_WhenTheHostUserAnswersNo_IsRefusedAndNoStreamOpens()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token, consent: "ask");
        await using var echo = EchoServer.Start();
        var state = await rig.EnrollHostAsync("pc1", deadline.Token);
        var host = await rig.StartHostAsync(state, deadline.Token, "--service", $"echo=127.0.0.1:{echo.Port}");

        var connect = rig.StartConnect("pc1", "--forward", "echo=0");
        await host.WaitForStderrAsync(@"asks for a support session with: see your screen, use your keyboard and mouse, reach the service 'echo', chat with you\. Allow\? \[y/N\]", deadline.Token);
        await host.WriteLineAsync("n", deadline.Token);
        var result = await connect.WaitForExitAsync(deadline.Token);

        result.ExitCode.Should().NotBe(0);
        result.StderrLines.Should().Contain("privateserver-supporter: the session was refused: the host 'pc1' refused the session: the user refused");
        result.Stderr.Should().NotContain("Forwarding");
        echo.Accepted.Should().Be(0);
    }

    [Fact]
    public async Task TwoSupporters_EachWithOwnConsent_ThenEmergencyStop_EndsBothAndClosesTheirStreams()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token, consent: "ask");
        await rig.AddSupporterAsync("bob", "Bob-Password-2026-x", SupportRig.Group, deadline.Token);
        var bobState = Path.Combine(rig.Root, "supporter-bob");
        await SupportRig.MustAsync(rig.LoginAsync("bob", "Bob-Password-2026-x", bobState, deadline.Token));
        await using var echo = EchoServer.Start();
        var state = await rig.EnrollHostAsync("pc1", deadline.Token);
        var host = await rig.StartHostAsync(state, deadline.Token, "--service", $"echo=127.0.0.1:{echo.Port}");

        var alice = rig.StartConnect("pc1", "--forward", "echo=0");
        await host.WaitForStderrAsync(@"alice asks for a support session", deadline.Token);
        await host.WriteLineAsync("ja", deadline.Token);
        var alicePort = await SupportRig.ForwardPortAsync(alice, "echo", deadline.Token);
        var bob = rig.Track(ChildProcess.Start(Programs.Supporter, ["connect", "pc1", "--state", bobState, "--forward", "echo=0", "--view-only"]));
        await host.WaitForStderrAsync(@"bob asks for a support session with: see your screen, reach the service 'echo', chat with you\.", deadline.Token);
        await host.WriteLineAsync("y", deadline.Token);
        var bobPort = await SupportRig.ForwardPortAsync(bob, "echo", deadline.Token);
        using var aliceStream = await OpenAsync(alicePort, deadline.Token);
        using var bobStream = await OpenAsync(bobPort, deadline.Token);
        (await EchoOnceAsync(aliceStream, deadline.Token)).Should().BeTrue();
        (await EchoOnceAsync(bobStream, deadline.Token)).Should().BeTrue();

        await host.WriteLineAsync("stop", deadline.Token);
        var aliceEnd = await alice.WaitForExitAsync(deadline.Token);
        var bobEnd = await bob.WaitForExitAsync(deadline.Token);

        host.Stderr.Should().Contain("Stopped 2 session(s). Nothing resumes without your consent.");
        aliceEnd.ExitCode.Should().NotBe(0);
        aliceEnd.StderrLines.Should().Contain("privateserver-supporter: the session ended: the host's user ended the session (emergency stop)", "host said: {0}", host.Stderr);
        bobEnd.StderrLines.Should().Contain("privateserver-supporter: the session ended: the host's user ended the session (emergency stop)", "host said: {0}", host.Stderr);
        (await EchoOnceAsync(aliceStream, deadline.Token)).Should().BeFalse("the open stream closed with the session");
        (await EchoOnceAsync(bobStream, deadline.Token)).Should().BeFalse();
    }

    [Fact]
    public async Task Connect_ToAHostOutsideTheSupportersGroups_IsRefusedLikeAnUnknownHost()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "group", "add", "finance"));
        await using var echo = EchoServer.Start();
        var state = await rig.EnrollHostAsync("pc-finance", deadline.Token, group: "finance");
        await rig.StartHostAsync(state, deadline.Token, "--service", $"echo=127.0.0.1:{echo.Port}");

        var other = await rig.StartConnect("pc-finance", "--forward", "echo=0").WaitForExitAsync(deadline.Token);
        var unknown = await rig.StartConnect("pc-nowhere", "--forward", "echo=0").WaitForExitAsync(deadline.Token);
        var hosts = await ChildProcess.RunAsync(Programs.Supporter, ["hosts", "--state", rig.SupporterState], deadline.Token);

        other.ExitCode.Should().NotBe(0);
        other.StderrLines.Should().Contain("privateserver-supporter: the session was refused: no host 'pc-finance' among the hosts you may reach");
        unknown.StderrLines.Should().Contain("privateserver-supporter: the session was refused: no host 'pc-nowhere' among the hosts you may reach");
        hosts.Stdout.Should().BeEmpty();
        echo.Accepted.Should().Be(0);
    }

    [Fact]
    public async Task Connect_ToAServiceTheHostDoesNotOffer_IsRefusedBeforeAskingTheUser()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token, consent: "ask");
        var state = await rig.EnrollHostAsync("pc1", deadline.Token);
        var host = await rig.StartHostAsync(state, deadline.Token, "--service", "screen=127.0.0.1:5999");

        var result = await rig.StartConnect("pc1", "--forward", "ssh=0").WaitForExitAsync(deadline.Token);

        result.StderrLines.Should().Contain("privateserver-supporter: the session was refused: the host 'pc1' does not offer the service 'ssh'");
        host.Stderr.Should().NotContain("asks for a support session");
    }

    internal static async Task<byte[]> RoundTripAsync(int port, byte[] payload, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port, cancellationToken);
        var stream = client.GetStream();
        var send = stream.WriteAsync(payload, cancellationToken).AsTask();
        var received = new byte[payload.Length];
        await stream.ReadExactlyAsync(received, cancellationToken);
        await send;
        return received;
    }

    [Fact]
    public async Task Streams_BeyondTheSessionsLimit_AreRefused_AndAFinishedOneMakesRoom()
    {
        using var deadline = TestDeadline.Start(120);
        await using var rig = await SupportRig.StartAsync(deadline.Token, environment: new Dictionary<string, string> { ["PRIVATESERVER__Broker__MaxStreamsPerSession"] = "2" });
        await using var echo = EchoServer.Start();
        await rig.StartHostAsync(await rig.EnrollHostAsync("pc-limit", deadline.Token), deadline.Token, "--service", $"echo=127.0.0.1:{echo.Port}");
        var connect = rig.StartConnect("pc-limit", "--forward", "echo=0");
        var port = await SupportRig.ForwardPortAsync(connect, "echo", deadline.Token);

        using var first = await OpenAsync(port, deadline.Token);
        using var second = await OpenAsync(port, deadline.Token);
        (await EchoOnceAsync(first, deadline.Token)).Should().BeTrue();
        (await EchoOnceAsync(second, deadline.Token)).Should().BeTrue();
        using var third = await OpenAsync(port, deadline.Token);
        var refused = await connect.WaitForStderrAsync("A connection to 'echo' was not relayed: ([^\n]*)\n", deadline.Token);
        var closed = await third.ReadAsync(new byte[1], deadline.Token);
        first.Close();
        echo.Accepted.Should().Be(2);
        using var fourth = await RetryUntilRelayedAsync(port, deadline.Token);

        refused.Groups[1].Value.Should().Be("this session has 2 streams open, the most allowed (Broker:MaxStreamsPerSession)");
        closed.Should().Be(0, "the refused connection is closed");
        rig.Appliance.Server.Stderr.Should().Contain("a stream for alice refused: this session has 2 streams open");
    }

    [Fact]
    public async Task Streams_AskedForAllAtOnce_NeverExceedTheSessionsLimit()
    {
        using var deadline = TestDeadline.Start(120);
        await using var rig = await SupportRig.StartAsync(deadline.Token, environment: new Dictionary<string, string> { ["PRIVATESERVER__Broker__MaxStreamsPerSession"] = "2" });
        await using var echo = EchoServer.Start();
        await rig.StartHostAsync(await rig.EnrollHostAsync("pc-burst", deadline.Token), deadline.Token, "--service", $"echo=127.0.0.1:{echo.Port}");
        var connect = rig.StartConnect("pc-burst", "--forward", "echo=0");
        var port = await SupportRig.ForwardPortAsync(connect, "echo", deadline.Token);

        // Each local connection is asked for on a relay connection of its own, side by side on the server.
        var streams = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => OpenAsync(port, deadline.Token)));
        var echoed = await Task.WhenAll(streams.Select(s => EchoOnceAsync(s, deadline.Token)));
        foreach (var stream in streams)
        {
            await stream.DisposeAsync();
        }

        echoed.Count(e => e).Should().Be(2, "the limit holds for requests that arrive together (supporter said: {0})", connect.Stderr);
        echo.Accepted.Should().Be(2);
    }

    [Fact]
    public async Task Streams_OneAfterAnother_ReuseTheModulesRelayConnections()
    {
        using var deadline = TestDeadline.Start(120);
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await using var echo = EchoServer.Start();
        await using var supporterConnections = CountingForwarder.Start(rig.Appliance.Port);
        await using var hostConnections = CountingForwarder.Start(rig.Appliance.Port);
        var host = await rig.EnrollHostAsync("pc-reuse", deadline.Token);
        await PointAtAsync(Path.Combine(rig.SupporterState, "login.json"), supporterConnections.Port, deadline.Token);
        await PointAtAsync(Path.Combine(host, "host.json"), hostConnections.Port, deadline.Token);
        await rig.StartHostAsync(host, deadline.Token, "--service", $"echo=127.0.0.1:{echo.Port}");
        var connect = rig.StartConnect("pc-reuse", "--forward", "echo=0");
        var port = await SupportRig.ForwardPortAsync(connect, "echo", deadline.Token);
        var (supporterBefore, hostBefore) = (supporterConnections.Accepted, hostConnections.Accepted);

        var echoed = 0;
        for (var i = 0; i < 20; i++)
        {
            using var stream = await OpenAsync(port, deadline.Token);
            echoed += await EchoOnceAsync(stream, deadline.Token) ? 1 : 0;
        }

        echoed.Should().Be(20, "every stream is relayed (supporter said: {0})", connect.Stderr);
        echo.Accepted.Should().Be(20);
        (supporterConnections.Accepted - supporterBefore).Should().BeLessThan(10, "a relay connection carries the next stream once its stream ended");
        (hostConnections.Accepted - hostBefore).Should().BeLessThan(10, "the host's relay connections are reused too");
    }

    /// <summary>Points a module's saved state at another port of 127.0.0.1 (the TLS name the modules check does not change).</summary>
    private static async Task PointAtAsync(string stateFile, int port, CancellationToken cancellationToken)
    {
        var state = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(stateFile, cancellationToken))!.AsObject();
        state["server"]!.GetValue<string>().Should().StartWith("https://127.0.0.1:");
        state["server"] = "https://127.0.0.1:" + port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await File.WriteAllTextAsync(stateFile, state.ToJsonString(), cancellationToken);
    }

    /// <summary>A stream is counted until the server has seen both halves close: retry briefly until a new one echoes.</summary>
    private static async Task<NetworkStream> RetryUntilRelayedAsync(int port, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var stream = await OpenAsync(port, cancellationToken);
            try
            {
                if (await EchoOnceAsync(stream, cancellationToken))
                {
                    return stream;
                }
            }
            catch (IOException) when (attempt < 20)
            {
            }

            stream.Dispose();
            attempt.Should().BeLessThan(20, "a finished stream makes room within seconds");
            await Task.Delay(250, cancellationToken);
        }
    }

    internal static async Task<NetworkStream> OpenAsync(int port, CancellationToken cancellationToken)
    {
        var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port, cancellationToken);
        return client.GetStream();
    }

    /// <summary>True when one line comes back echoed; false when the stream is closed.</summary>
    internal static async Task<bool> EchoOnceAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        try
        {
            var ping = "ping\n"u8.ToArray();
            await stream.WriteAsync(ping, cancellationToken);
            var back = new byte[ping.Length];
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            await stream.ReadExactlyAsync(back, timeout.Token);
            return back.AsSpan().SequenceEqual(ping);
        }
        catch (Exception ex) when (ex is IOException or EndOfStreamException or SocketException)
        {
            return false;
        }
    }
}
