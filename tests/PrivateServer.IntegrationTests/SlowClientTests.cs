using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>Slow clients (slowloris) against the real appliance: they cannot starve a normal client, and the header timeout closes them.</summary>
public sealed class SlowClientTests
{
    private const int SlowClients = 200;

    [Fact]
    public async Task TwoHundredClientsSendingHeadersOneBytePerSecond_DoNotStopANormalClient_AndAreClosedByTheHeaderTimeout()
    {
        using var deadline = TestDeadline.Start(120);
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        var slow = new List<SslStream>();
        try
        {
            for (var i = 0; i < SlowClients; i++)
            {
                slow.Add(await OpenTlsAsync(appliance, deadline.Token));
            }

            using var trickling = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
            var started = Stopwatch.StartNew();
            var trickle = TrickleAsync(slow, trickling.Token);

            // While they trickle, a normal client is served as usual, again and again.
            using var client = appliance.CreateClient();
            var slowest = TimeSpan.Zero;
            for (var i = 0; i < 10; i++)
            {
                var request = Stopwatch.StartNew();
                using var response = await client.GetAsync("/healthz", deadline.Token);
                response.StatusCode.Should().Be(HttpStatusCode.OK);
                slowest = request.Elapsed > slowest ? request.Elapsed : slowest;
                await Task.Delay(500, deadline.Token);
            }

            var open = await trickle;
            var closedAfter = started.Elapsed;

            slowest.Should().BeLessThan(TimeSpan.FromSeconds(2), "200 slow clients do not hold up a normal one");
            open.Should().Be(0, "the header timeout (15 s) closes every connection that never finishes its headers");
            closedAfter.Should().BeLessThan(TimeSpan.FromSeconds(40));
        }
        finally
        {
            foreach (var stream in slow)
            {
                await stream.DisposeAsync();
            }
        }
    }

    private static async Task<SslStream> OpenTlsAsync(ApplianceProcess appliance, CancellationToken cancellationToken)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, appliance.Port, cancellationToken);
        var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, certificate, _, errors) => CaTrust.IsTrusted(appliance.Ca, certificate, errors));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, cancellationToken);
        return tls;
    }

    /// <summary>One byte of a never-ending header per connection per second, until every connection is closed; returns how many are still open at the end (60 s at most).</summary>
    private static async Task<int> TrickleAsync(List<SslStream> streams, CancellationToken cancellationToken)
    {
        var header = "GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: "u8.ToArray();
        var open = new HashSet<SslStream>(streams);
        for (var second = 0; second < 60 && open.Count > 0; second++)
        {
            var b = second < header.Length ? header[second] : (byte)'a';
            foreach (var stream in open.ToList())
            {
                try
                {
                    await stream.WriteAsync(new[] { b }, cancellationToken);
                    await stream.FlushAsync(cancellationToken);
                }
                catch (IOException)
                {
                    open.Remove(stream);
                }
            }

            await Task.Delay(1000, cancellationToken);
        }

        return open.Count;
    }
}
