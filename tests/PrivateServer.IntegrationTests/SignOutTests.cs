using System.Net;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>What a user holds ends when their password changes or an admin signs them out: other browsers, supporter-module tokens, live sessions.</summary>
public sealed class SignOutTests
{
    [Fact]
    public async Task PasswordChange_EndsOtherBrowsers_TheModulesToken_AndTheLiveSession_ButNotThisBrowser()
    {
        using var deadline = TestDeadline.Start(120);
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await using var echo = EchoServer.Start();
        var connect = await StartSessionAsync(rig, echo, "pc-9", deadline.Token);
        using var here = rig.Appliance.CreateClient();
        using var elsewhere = rig.Appliance.CreateClient();
        (await WebLogin.PostAsync(here, SupportRig.Supporter, SupportRig.SupporterPassword, deadline.Token)).Dispose();
        (await WebLogin.PostAsync(elsewhere, SupportRig.Supporter, SupportRig.SupporterPassword, deadline.Token)).Dispose();

        var profile = await here.GetStringAsync("/profile", deadline.Token);
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["current"] = SupportRig.SupporterPassword,
            ["next"] = "A-Brand-New-Password-77",
            ["repeat"] = "A-Brand-New-Password-77",
            ["__RequestVerificationToken"] = WebLogin.AntiforgeryToken(profile),
        });
        using var changed = await here.PostAsync("/profile?handler=Password", form, deadline.Token);
        var ended = await connect.WaitForExitAsync(deadline.Token);
        using var hereAfter = await here.GetAsync("/console", deadline.Token);
        using var elsewhereAfter = await elsewhere.GetAsync("/console", deadline.Token);
        var hosts = await ChildProcess.RunAsync(Programs.Supporter, ["hosts", "--state", rig.SupporterState], deadline.Token);
        var relogin = await rig.LoginAsync(SupportRig.Supporter, "A-Brand-New-Password-77", rig.SupporterState, deadline.Token);

        changed.StatusCode.Should().Be(HttpStatusCode.OK);
        ended.ExitCode.Should().Be(1);
        ended.Stderr.Should().Contain("the session ended: the password was changed");
        hereAfter.StatusCode.Should().Be(HttpStatusCode.OK, "the browser that changed the password stays signed in");
        elsewhereAfter.StatusCode.Should().Be(HttpStatusCode.Redirect, "every other browser is signed out");
        elsewhereAfter.Headers.Location!.AbsolutePath.Should().Be("/login");
        hosts.ExitCode.Should().Be(1, "the module's token was revoked");
        relogin.ExitCode.Should().Be(0, relogin.Stderr);
    }

    [Fact]
    public async Task AdminSignOut_RevokesTheModulesToken_AndEndsTheLiveSession()
    {
        using var deadline = TestDeadline.Start(120);
        await using var rig = await SupportRig.StartAsync(deadline.Token);
        await using var echo = EchoServer.Start();
        var connect = await StartSessionAsync(rig, echo, "pc-10", deadline.Token);

        var signedOut = await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "user", "sign-out", SupportRig.Supporter));
        var ended = await connect.WaitForExitAsync(deadline.Token);
        var hosts = await ChildProcess.RunAsync(Programs.Supporter, ["hosts", "--state", rig.SupporterState], deadline.Token);
        var export = Path.Combine(rig.Root, "sign-out.json");
        await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "audit", "export", "--format", "json", "--out", export));
        using var trail = System.Text.Json.JsonDocument.Parse(await File.ReadAllBytesAsync(export, deadline.Token));
        var events = trail.RootElement.GetProperty("events").EnumerateArray()
            .Select(e => (Action: e.GetProperty("action").GetString(), Target: e.GetProperty("target").GetString(), Details: string.Join(' ', e.GetProperty("details").EnumerateObject().Select(d => $"{d.Name}={d.Value.GetString()}"))))
            .ToList();

        signedOut.Stderr.Should().Contain($"Signed {SupportRig.Supporter} out everywhere.");
        ended.Stderr.Should().Contain("the session ended: an admin signed the user out");
        hosts.ExitCode.Should().Be(1);
        hosts.Stderr.Should().Contain("sign in");
        events.Should().ContainSingle(e => e.Action == "user.signed-out").Which.Should().Be(
            ("user.signed-out", SupportRig.Supporter, "reason=an admin signed the user out tokens=1"), "the trail counts the module token taken back");
        events.Should().ContainSingle(e => e.Action == "session.ended").Which.Details.Should().Contain("an admin signed the user out");
    }

    /// <summary>An enrolled host serving <paramref name="echo"/>, and a running <c>connect</c> session to it that forwards the echo service.</summary>
    private static async Task<ChildProcess> StartSessionAsync(SupportRig rig, EchoServer echo, string host, CancellationToken cancellationToken)
    {
        await rig.StartHostAsync(await rig.EnrollHostAsync(host, cancellationToken), cancellationToken, "--service", $"echo=127.0.0.1:{echo.Port}");
        var connect = rig.StartConnect(host, "--forward", "echo=0");
        await SupportRig.ForwardPortAsync(connect, "echo", cancellationToken);
        return connect;
    }
}
