using System.Net;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

public sealed class WebLoginTests
{
    [Fact]
    public async Task Login_WithThePasswordInitPrinted_SignsTheAdminIn()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        using var client = appliance.CreateClient();

        using var before = await client.GetAsync("/", deadline.Token);
        using var login = await WebLogin.PostAsync(client, "admin", appliance.AdminPassword, deadline.Token);
        var home = await client.GetStringAsync("/", deadline.Token);

        before.StatusCode.Should().Be(HttpStatusCode.Redirect);
        new Uri(appliance.BaseAddress, before.Headers.Location!).PathAndQuery.Should().Be("/login?ReturnUrl=%2F");
        login.StatusCode.Should().Be(HttpStatusCode.Redirect);
        login.Headers.Location!.ToString().Should().Be("/");
        login.Headers.GetValues("Set-Cookie").Should().Contain(c => c.StartsWith("__Host-ps-auth=", StringComparison.Ordinal)
            && c.Contains("secure", StringComparison.OrdinalIgnoreCase) && c.Contains("httponly", StringComparison.OrdinalIgnoreCase)
            && c.Contains("samesite=strict", StringComparison.OrdinalIgnoreCase));
        home.Should().Contain("Signed in as admin (administrator)");
    }

    [Fact]
    public async Task Login_WithAWrongPassword_IsRefusedAndLoggedWithItsSource()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        using var client = appliance.CreateClient();

        using var login = await WebLogin.PostAsync(client, "admin", "Wrong-Password-1234", deadline.Token);
        var body = await login.Content.ReadAsStringAsync(deadline.Token);
        using var home = await client.GetAsync("/", deadline.Token);

        login.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        body.Should().Contain("Wrong user name or password, or signing in from this network is not allowed.");
        home.StatusCode.Should().Be(HttpStatusCode.Redirect);
        var log = await LogText(appliance, deadline.Token);
        log.Should().Contain("Login failed for user admin from 127.0.0.1: wrong password");
        log.Should().NotContain("Wrong-Password-1234");
    }

    [Fact]
    public async Task Login_WhenAccountIsUnknown_AnswersLikeAWrongPassword()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        using var client = appliance.CreateClient();

        using var unknown = await WebLogin.PostAsync(client, "nobody", "Some-Password-1234", deadline.Token);
        using var wrong = await WebLogin.PostAsync(client, "admin", "Some-Password-1234", deadline.Token);

        unknown.StatusCode.Should().Be(wrong.StatusCode);
        var unknownPage = await unknown.Content.ReadAsStringAsync(deadline.Token);
        var wrongPage = await wrong.Content.ReadAsStringAsync(deadline.Token);
        StripTokens(unknownPage).Replace("nobody", "admin", StringComparison.Ordinal).Should().Be(StripTokens(wrongPage));
    }

    [Fact]
    public async Task Login_WhenPostedWithoutAntiforgeryToken_IsRejected()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        using var client = appliance.CreateClient();

        using var forged = await client.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["UserName"] = "admin",
            ["Password"] = appliance.AdminPassword,
        }), deadline.Token);

        forged.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        forged.Headers.Contains("Set-Cookie").Should().BeFalse();
    }

    [Fact]
    public async Task LayoutForms_WhenRendered_CarryTheirAntiforgeryTokens()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        using var client = appliance.CreateClient();
        (await WebLogin.PostAsync(client, "admin", appliance.AdminPassword, deadline.Token)).Dispose();

        var home = await client.GetStringAsync("/", deadline.Token);

        var forms = System.Text.RegularExpressions.Regex.Matches(home, "<form[^>]*method=\"post\"[\\s\\S]*?</form>");
        forms.Should().HaveCount(2);
        forms.Should().AllSatisfy(f => f.Value.Should().Contain("__RequestVerificationToken"));
    }

    [Fact]
    public async Task Logout_WhenPosted_EndsTheSession()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        using var client = appliance.CreateClient();
        (await WebLogin.PostAsync(client, "admin", appliance.AdminPassword, deadline.Token)).Dispose();
        var home = await client.GetStringAsync("/", deadline.Token);

        using var logout = await client.PostAsync("/logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = WebLogin.AntiforgeryToken(home),
        }), deadline.Token);
        using var after = await client.GetAsync("/", deadline.Token);

        logout.StatusCode.Should().Be(HttpStatusCode.Redirect);
        after.StatusCode.Should().Be(HttpStatusCode.Redirect);
        new Uri(appliance.BaseAddress, after.Headers.Location!).AbsolutePath.Should().Be("/login");
    }

    [Theory]
    [InlineData("de-DE,de;q=0.9,en;q=0.5", "de", "Anmelden", "Benutzername")]
    [InlineData("en-US,en;q=0.9", "en", "Sign in", "User name")]
    [InlineData("fr-FR", "en", "Sign in", "User name")]
    public async Task LoginPage_WhenBrowserPrefersALanguage_SpeaksIt(string acceptLanguage, string lang, string heading, string field)
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        using var client = appliance.CreateClient();
        client.DefaultRequestHeaders.Add("Accept-Language", acceptLanguage);

        var page = await client.GetStringAsync("/login", deadline.Token);

        page.Should().Contain($"<html lang=\"{lang}\">").And.Contain($"<h1>{heading}</h1>").And.Contain(field);
    }

    [Fact]
    public async Task LanguageSwitch_WhenGermanIsChosen_StaysGermanAcrossPages()
    {
        using var deadline = TestDeadline.Start();
        await using var appliance = await ApplianceProcess.StartAsync(deadline.Token);
        using var client = appliance.CreateClient();
        client.DefaultRequestHeaders.Add("Accept-Language", "en");
        var login = await client.GetStringAsync("/login", deadline.Token);

        using var switched = await client.PostAsync("/culture", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["culture"] = "de",
            ["returnUrl"] = "/login",
            ["__RequestVerificationToken"] = WebLogin.AntiforgeryToken(login),
        }), deadline.Token);
        (await WebLogin.PostAsync(client, "admin", appliance.AdminPassword, deadline.Token)).Dispose();
        var home = await client.GetStringAsync("/", deadline.Token);

        switched.Headers.Location!.ToString().Should().Be("/login");
        home.Should().Contain("Angemeldet als admin (Administrator)").And.Contain("Abmelden");
    }

    private static string StripTokens(string page) =>
        System.Text.RegularExpressions.Regex.Replace(page, "value=\"CfDJ8[^\"]*\"", "value=\"\"");

    private static async Task<string> LogText(ApplianceProcess appliance, CancellationToken cancellationToken)
    {
        var logs = Path.Combine(appliance.DataDirectory, "logs");
        var text = string.Empty;
        foreach (var file in Directory.GetFiles(logs))
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            text += await reader.ReadToEndAsync(cancellationToken);
        }

        return text;
    }
}
