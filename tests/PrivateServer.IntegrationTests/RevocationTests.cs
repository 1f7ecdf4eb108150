using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
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
        var direct = async () =>
        {
            // With TLS 1.3 the server judges the certificate after the client's part of the handshake: the first read fails.
            using var socket = await ModuleSocket.ConnectHostChannelAsync(rig.Appliance, certificate, deadline.Token);
            await socket.ReceiveAsync(new byte[64], deadline.Token);
        };
        await rig.Appliance.StopAsync(deadline.Token);
        await rig.Appliance.RunAsync(deadline.Token);
        var list = await rig.Appliance.CliAsync(deadline.Token, "host", "list");
        var crl = Path.Combine(rig.Root, "appliance.crl");
        using (var client = rig.Appliance.CreateClient())
        {
            await File.WriteAllBytesAsync(crl, await client.GetByteArrayAsync("/ca/crl", deadline.Token), deadline.Token);
        }

        var caPem = Path.Combine(rig.Root, "ca.pem");
        await File.WriteAllTextAsync(caPem, rig.Appliance.Ca.ExportCertificatePem(), deadline.Token);
        var checkedCrl = await ChildProcess.RunAsync("openssl", ["crl", "-inform", "DER", "-in", crl, "-CAfile", caPem, "-noout", "-text"], deadline.Token);

        revoke.ExitCode.Should().Be(0, revoke.Stderr);
        ended.StderrLines.Should().Contain("privateserver-supporter: the session ended: the host was revoked");
        streamAlive.Should().BeFalse();
        await direct.Should().ThrowAsync<Exception>("the handshake with a revoked certificate is refused after a restart too");
        list.Stdout.Should().Contain("\trevoked\t");
        checkedCrl.ExitCode.Should().Be(0, checkedCrl.Stderr);
        checkedCrl.Stderr.Should().Contain("verify OK", "openssl checks the CRL's signature against the appliance CA");
        checkedCrl.Stdout.Should().Contain($"Serial Number: {certificate.SerialNumber}").And.Contain("Cessation Of Operation");
    }

    [Fact]
    public async Task ResumedTlsSession_OfARevokedHost_IsRefused()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        var state = await rig.EnrollHostAsync("pc-resumed", deadline.Token);
        var session = Path.Combine(rig.Root, "host-tls-session.pem");
        // A plain request to the host channel's HTTP entrance: an authenticated host hears that it must be a WebSocket.
        var request = $"GET /api/v1/host/connect HTTP/1.1\r\nHost: {ModuleSocket.ModuleServerName}\r\nConnection: close\r\n\r\n";
        string[] client =
        [
            "s_client", "-connect", $"127.0.0.1:{rig.Appliance.Port}", "-servername", ModuleSocket.ModuleServerName, "-tls1_3", "-ign_eof",
            "-cert", Path.Combine(state, "host.crt"), "-key", Path.Combine(state, "host.key"),
        ];

        var first = await ChildProcess.RunAsync("openssl", [.. client, "-sess_out", session], deadline.Token, standardInput: request);
        var resumed = await ChildProcess.RunAsync("openssl", [.. client, "-sess_in", session], deadline.Token, standardInput: request);
        var revoke = await rig.Appliance.CliAsync(deadline.Token, "host", "revoke", "pc-resumed");
        var after = await ChildProcess.RunAsync("openssl", [.. client, "-sess_in", session], deadline.Token, standardInput: request);

        first.Stdout.Should().Contain("New, TLSv1.3").And.Contain("HTTP/1.1 400").And.Contain("the host channel is a WebSocket");
        resumed.Stdout.Should().Contain("Reused, TLSv1.3").And.Contain("HTTP/1.1 400", "a resumed session still carries the host's certificate");
        revoke.ExitCode.Should().Be(0, revoke.Stderr);
        after.Stdout.Should().Contain("Reused, TLSv1.3", "the client resumed its session (no certificate is sent again)")
            .And.NotContain("HTTP/1.1", "the server checks the session's certificate again and closes the connection");
    }

    [Fact]
    public async Task ModuleConnection_WithACertificateFromAnotherCa_IsRefusedAtTheHandshake()
    {
        using var deadline = TestDeadline.Start();
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        var state = await rig.EnrollHostAsync("pc-genuine", deadline.Token);
        using var genuine = ModuleSocket.LoadHostCertificate(state);
        // Same subject (the enrolled host id), same EKU, same key — but signed by a CA of our own.
        using var forged = IssueFromAnotherCa(genuine);

        using var genuineClient = ModuleSocket.CreateClient(rig.Appliance, genuine);
        using var forgedClient = ModuleSocket.CreateClient(rig.Appliance, forged);

        // The CA download is public: only the handshake itself can refuse it.
        using var accepted = await genuineClient.GetAsync("api/v1/ca", deadline.Token);
        var refused = () => forgedClient.GetAsync("api/v1/ca", deadline.Token);

        accepted.StatusCode.Should().Be(System.Net.HttpStatusCode.OK);
        await refused.Should().ThrowAsync<HttpRequestException>("only certificates issued by the appliance CA pass the handshake");
    }

    private static X509Certificate2 IssueFromAnotherCa(X509Certificate2 genuine)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Not the appliance CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var key = genuine.GetECDsaPrivateKey()!;
        var request = new CertificateRequest(genuine.SubjectName, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30), [1, 2, 3, 4]);
        using var withKey = issued.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }
}
