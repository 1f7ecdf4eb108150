using System.Text.RegularExpressions;

namespace PrivateServer.IntegrationTests.Infrastructure;

/// <summary>Signs in through the real login form, antiforgery token included, as a browser would.</summary>
public static partial class WebLogin
{
    public static async Task<HttpResponseMessage> PostAsync(HttpClient client, string user, string password, CancellationToken cancellationToken)
    {
        var page = await client.GetStringAsync("/login", cancellationToken);
        var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["UserName"] = user,
            ["Password"] = password,
            ["__RequestVerificationToken"] = AntiforgeryToken(page),
        });
        return await client.PostAsync("/login", form, cancellationToken);
    }

    public static string AntiforgeryToken(string page)
    {
        var match = TokenPattern().Match(page);
        return match.Success ? match.Groups[1].Value : throw new InvalidOperationException("The page has no antiforgery token.");
    }

    [GeneratedRegex("<input[^>]*name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}
