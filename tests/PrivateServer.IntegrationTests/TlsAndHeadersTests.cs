using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>What a client sees of a freshly initialised appliance: TLS, trust, headers.</summary>
public sealed class TlsAndHeadersTests
{
    private const string StrictCsp =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
        "connect-src 'self'; media-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    [Fact]
    public async Task Healthz_WhenClientTrustsOnlyTheExportedCa_AnswersStatusAndVersionWithoutAuth()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        using var client = appliance.CreateClient();

        using var response = await client.GetAsync("/healthz", deadline.Token);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var body = await response.Content.ReadAsStringAsync(deadline.Token);
        body.Should().MatchRegex("""^\{"status":"ok","version":"\d+\.\d+\.\d+[^"]*"\}$""");
    }

    [Fact]
    public async Task CaFingerprint_WhenPrinted_IsSha256OfTheExportedCaDer()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.InitialiseAsync(deadline.Token);

        var fingerprint = await appliance.CliAsync(deadline.Token, "ca", "fingerprint");

        fingerprint.ExitCode.Should().Be(0);
        fingerprint.Stdout.Should().Be(Convert.ToHexStringLower(SHA256.HashData(appliance.Ca.RawData)) + "\n");
    }

    [Fact]
    public async Task Curl_WhenGivenOnlyTheExportedCa_ConnectsWithTls13AndAes256Gcm()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        var caPem = appliance.DataDirectory + "-ca.pem";

        var tls13 = await ChildProcess.RunAsync("curl", ["-sS", "-v", "--cacert", caPem, $"https://localhost:{appliance.Port}/healthz"], deadline.Token);
        var tls12 = await ChildProcess.RunAsync(
            "curl", ["-sS", "-v", "--tlsv1.2", "--tls-max", "1.2", "--cacert", caPem, $"https://rs.example.internal:{appliance.Port}/healthz",
            "--resolve", $"rs.example.internal:{appliance.Port}:127.0.0.1"], deadline.Token);
        var untrusted = await ChildProcess.RunAsync("curl", ["-sS", $"https://localhost:{appliance.Port}/healthz"], deadline.Token);

        tls13.ExitCode.Should().Be(0, tls13.Stderr);
        tls13.Stdout.Should().Contain("\"status\":\"ok\"");
        tls13.Stderr.Should().Contain("TLSv1.3").And.Contain("TLS_AES_256_GCM_SHA384");
        tls12.ExitCode.Should().Be(0, tls12.Stderr);
        tls12.Stderr.Should().Contain("TLSv1.2").And.Contain("GCM");
        untrusted.ExitCode.Should().NotBe(0, "the system store does not know the appliance CA");
    }

    [Fact]
    public async Task Tls_WhenClientOffersOnlyTls11_IsRefused()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);

        var old = await ChildProcess.RunAsync(
            "openssl", ["s_client", "-connect", $"127.0.0.1:{appliance.Port}", "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"], deadline.Token, standardInput: "");

        old.ExitCode.Should().NotBe(0);
        (old.Stdout + old.Stderr).Should().Contain("no peer certificate available").And.Contain("alert protocol version");
    }

    [Fact]
    public async Task Tls12_WhenClientOffersOnlyCbcSuites_IsRefused()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);

        var cbc = await ChildProcess.RunAsync(
            "openssl", ["s_client", "-connect", $"127.0.0.1:{appliance.Port}", "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA256"],
            deadline.Token, standardInput: "");
        var gcm = await ChildProcess.RunAsync(
            "openssl", ["s_client", "-connect", $"127.0.0.1:{appliance.Port}", "-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"],
            deadline.Token, standardInput: "");

        cbc.ExitCode.Should().NotBe(0);
        (cbc.Stdout + cbc.Stderr).Should().Contain("no peer certificate available").And.Contain("handshake failure");
        gcm.Stdout.Should().Contain("Cipher is ECDHE-ECDSA-AES256-GCM-SHA384", "TLS 1.2 with an AEAD suite is served");
    }

    [Fact]
    public async Task Tls13Session_WhenTheClientComesBack_IsResumedWithoutAFullHandshake()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        var session = appliance.DataDirectory + "-tls-session.pem";
        const string Request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        string[] client = ["s_client", "-connect", $"127.0.0.1:{appliance.Port}", "-tls1_3", "-ign_eof"];

        var first = await ChildProcess.RunAsync("openssl", [.. client, "-sess_out", session], deadline.Token, standardInput: Request);
        var again = await ChildProcess.RunAsync("openssl", [.. client, "-sess_in", session], deadline.Token, standardInput: Request);

        first.Stdout.Should().Contain("New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384").And.Contain("\"status\":\"ok\"");
        again.Stdout.Should().Contain("Reused, TLSv1.3", "the server keeps one TLS context for TLS 1.3 clients and honours its tickets")
            .And.Contain("\"status\":\"ok\"");
    }

    [Fact]
    public async Task PlainHttp_WhenSentToTheHttpsPort_GetsNoHttpResponse()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, appliance.Port, deadline.Token);
        var stream = tcp.GetStream();

        await stream.WriteAsync("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"u8.ToArray(), deadline.Token);
        var buffer = new byte[1024];
        var received = new StringBuilder();
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, deadline.Token).AsTask().WaitAsync(TimeSpan.FromSeconds(15), deadline.Token)) > 0)
            {
                received.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
        catch (IOException)
        {
            // Reset by the server: refused, as expected.
        }

        received.ToString().Should().NotContain("HTTP/1.1").And.NotContain("status");
    }

    [Theory]
    [InlineData("/login")]
    [InlineData("/")]
    [InlineData("/healthz")]
    [InlineData("/assets/css/site.css")]
    [InlineData("/no-such-page")]
    public async Task EveryResponse_WhenServed_CarriesStrictSecurityHeaders(string path)
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        using var client = appliance.CreateClient();

        using var response = await client.GetAsync(path, deadline.Token);

        response.Headers.GetValues("Content-Security-Policy").Should().Equal(StrictCsp);
        response.Headers.GetValues("X-Content-Type-Options").Should().Equal("nosniff");
        response.Headers.GetValues("Referrer-Policy").Should().Equal("no-referrer");
        response.Headers.GetValues("Strict-Transport-Security").Single().Should().StartWith("max-age=");
        response.Headers.GetValues("X-Frame-Options").Should().Equal("DENY");
        response.Headers.Contains("Server").Should().BeFalse();
    }

    [Fact]
    public async Task PagesAndJson_AreNeverCached_ButAssetsMayBe()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        using var client = appliance.CreateClient();
        (await WebLogin.PostAsync(client, "admin", appliance.AdminPassword, deadline.Token)).Dispose();

        using var page = await client.GetAsync("/admin/tokens", deadline.Token);
        using var json = await client.GetAsync("/web/hosts", deadline.Token);
        using var css = await client.GetAsync("/assets/css/site.css", deadline.Token);

        page.Headers.CacheControl!.NoStore.Should().BeTrue("an admin page shows secrets once");
        json.StatusCode.Should().Be(HttpStatusCode.OK);
        json.Headers.CacheControl!.NoStore.Should().BeTrue("the host list is live state");
        (css.Headers.CacheControl?.NoStore ?? false).Should().BeFalse();
    }

    [Fact]
    public async Task LoginPage_WhenRendered_ReferencesNoOtherOrigin()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        using var client = appliance.CreateClient();

        var page = await client.GetStringAsync("/login", deadline.Token);
        var css = await client.GetStringAsync("/assets/css/site.css", deadline.Token);

        page.Should().NotMatchRegex("(src|href|action)=\"(https?:)?//");
        page.Should().NotContain("<script>").And.NotContain("style=\"");
        css.Should().NotContain("url(http").And.NotContain("@import");
    }
}
