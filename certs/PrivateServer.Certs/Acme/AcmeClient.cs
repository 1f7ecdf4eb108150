using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace PrivateServer.Certs.Acme;

/// <summary>Publishes (or, with null, withdraws) the key authorization an ACME server will fetch for an http-01 token.</summary>
public delegate void Http01Publisher(string token, string? keyAuthorization);

/// <summary>
/// A small ACME client (RFC 8555) for one CA directory: account by ES256 key, order for DNS names, http-01
/// challenges, finalize with a CSR, download of the PEM chain. Nonces are taken from every answer and a
/// badNonce refusal is retried once with a fresh one. No other challenge types, no external account binding.
/// </summary>
public sealed class AcmeClient(HttpClient http, Uri directory, ECDsa accountKey, TimeProvider time)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan PollLimit = TimeSpan.FromMinutes(2);
    private JsonObject? _directory;
    private string? _nonce;

    /// <summary>The account's URL (kid) once <see cref="RegisterAsync"/> ran.</summary>
    public string? AccountUrl { get; private set; }

    /// <summary>Creates the account for the key, or finds the existing one (the server answers 200 for a known key).</summary>
    public async Task<string> RegisterAsync(string? email, CancellationToken cancellationToken)
    {
        var payload = new JsonObject { ["termsOfServiceAgreed"] = true };
        if (!string.IsNullOrEmpty(email))
        {
            payload["contact"] = new JsonArray("mailto:" + email);
        }

        using var response = await PostAsync(await EndpointAsync("newAccount", cancellationToken), payload, useJwk: true, "creating the ACME account", cancellationToken);
        AccountUrl = response.Headers.Location?.ToString() ?? throw new AcmeException("the ACME server created the account but sent no account URL");
        return AccountUrl;
    }

    /// <summary>
    /// Orders a certificate for <paramref name="names"/> (the first is the subject) on <paramref name="certificateKey"/>, answering every
    /// http-01 challenge through <paramref name="publish"/>, and returns the issued chain as PEM (server certificate first).
    /// </summary>
    public async Task<string> OrderAsync(IReadOnlyList<string> names, ECDsa certificateKey, Http01Publisher publish, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(certificateKey);
        ArgumentNullException.ThrowIfNull(publish);
        if (AccountUrl is null)
        {
            throw new InvalidOperationException("register the account first");
        }

        var identifiers = new JsonArray(names.Select(n => (JsonNode)new JsonObject { ["type"] = "dns", ["value"] = n }).ToArray());
        string orderUrl;
        JsonObject order;
        using (var created = await PostAsync(await EndpointAsync("newOrder", cancellationToken), new JsonObject { ["identifiers"] = identifiers }, useJwk: false, "placing the order", cancellationToken))
        {
            orderUrl = created.Headers.Location?.ToString() ?? throw new AcmeException("the ACME server created the order but sent no order URL");
            order = await ReadObjectAsync(created, cancellationToken);
        }

        foreach (var authorization in order["authorizations"]?.AsArray().Select(a => a!.GetValue<string>()) ?? [])
        {
            await AuthorizeAsync(authorization, publish, cancellationToken);
        }

        var request = new CertificateRequest(new X500DistinguishedName("CN=" + names[0]), certificateKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            san.AddDnsName(name);
        }

        request.CertificateExtensions.Add(san.Build());
        var csr = AcmeJws.Base64Url(request.CreateSigningRequest());
        using (await PostAsync(order["finalize"]!.GetValue<string>(), new JsonObject { ["csr"] = csr }, useJwk: false, "finalizing the order", cancellationToken))
        {
        }

        var done = await PollAsync(orderUrl, "valid", "the order", cancellationToken);
        var certificateUrl = done["certificate"]?.GetValue<string>() ?? throw new AcmeException("the order is valid but names no certificate");
        using var download = await PostAsync(certificateUrl, null, useJwk: false, "downloading the certificate", cancellationToken);
        return await download.Content.ReadAsStringAsync(cancellationToken);
    }

    private async Task AuthorizeAsync(string authorizationUrl, Http01Publisher publish, CancellationToken cancellationToken)
    {
        JsonObject authorization;
        using (var fetched = await PostAsync(authorizationUrl, null, useJwk: false, "reading an authorization", cancellationToken))
        {
            authorization = await ReadObjectAsync(fetched, cancellationToken);
        }

        if (authorization["status"]?.GetValue<string>() == "valid")
        {
            return;
        }

        var name = authorization["identifier"]?["value"]?.GetValue<string>() ?? "?";
        var challenge = authorization["challenges"]?.AsArray().OfType<JsonObject>().FirstOrDefault(c => c["type"]?.GetValue<string>() == "http-01")
            ?? throw new AcmeException($"the ACME server offers no http-01 challenge for {name}");
        var token = challenge["token"]!.GetValue<string>();
        publish(token, token + "." + AcmeJws.Thumbprint(accountKey));
        try
        {
            using (await PostAsync(challenge["url"]!.GetValue<string>(), new JsonObject(), useJwk: false, $"asking for the validation of {name}", cancellationToken))
            {
            }

            await PollAsync(authorizationUrl, "valid", $"the validation of {name}", cancellationToken);
        }
        finally
        {
            publish(token, null);
        }
    }

    /// <summary>POST-as-GET until the resource has <paramref name="wanted"/> status; "invalid" ends it with the server's problem.</summary>
    private async Task<JsonObject> PollAsync(string url, string wanted, string what, CancellationToken cancellationToken)
    {
        var until = time.GetUtcNow() + PollLimit;
        while (true)
        {
            JsonObject resource;
            using (var response = await PostAsync(url, null, useJwk: false, "checking " + what, cancellationToken))
            {
                resource = await ReadObjectAsync(response, cancellationToken);
            }

            var status = resource["status"]?.GetValue<string>();
            if (status == wanted)
            {
                return resource;
            }

            if (status == "invalid")
            {
                var problem = resource["error"] ?? resource["challenges"]?.AsArray().OfType<JsonObject>().Select(c => c["error"]).FirstOrDefault(e => e is not null);
                throw new AcmeException($"{what} failed: {problem?["detail"]?.GetValue<string>() ?? "the ACME server marked it invalid"}");
            }

            if (time.GetUtcNow() > until)
            {
                throw new AcmeException($"{what} is still '{status}' after {PollLimit.TotalMinutes:0} minutes");
            }

            await Task.Delay(PollInterval, time, cancellationToken);
        }
    }

    private async Task<HttpResponseMessage> PostAsync(string url, JsonNode? payload, bool useJwk, string what, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var body = AcmeJws.Sign(accountKey, url, await NonceAsync(cancellationToken), useJwk ? null : AccountUrl, payload);
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/jose+json");
            var response = await SendAsync(request, what, cancellationToken);
            _nonce = response.Headers.TryGetValues("Replay-Nonce", out var nonces) ? nonces.FirstOrDefault() : null;
            if (response.IsSuccessStatusCode)
            {
                return response;
            }

            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                var problem = Parse(text);
                if (attempt == 0 && problem?["type"]?.GetValue<string>() == "urn:ietf:params:acme:error:badNonce")
                {
                    continue;
                }

                throw new AcmeException($"{what} failed: {(int)response.StatusCode} {problem?["detail"]?.GetValue<string>() ?? text}");
            }
        }
    }

    private async Task<string> NonceAsync(CancellationToken cancellationToken)
    {
        if (_nonce is { } kept)
        {
            _nonce = null;
            return kept;
        }

        using var request = new HttpRequestMessage(HttpMethod.Head, await EndpointAsync("newNonce", cancellationToken));
        using var response = await SendAsync(request, "getting a nonce", cancellationToken);
        return response.Headers.TryGetValues("Replay-Nonce", out var nonces) ? nonces.First() : throw new AcmeException("the ACME server sent no nonce");
    }

    private async Task<string> EndpointAsync(string name, CancellationToken cancellationToken)
    {
        if (_directory is null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, directory);
            using var response = await SendAsync(request, "reading the ACME directory", cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new AcmeException($"reading the ACME directory {directory} failed: {(int)response.StatusCode}");
            }

            _directory = await ReadObjectAsync(response, cancellationToken);
        }

        return _directory[name]?.GetValue<string>() ?? throw new AcmeException($"the ACME directory names no {name}");
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string what, CancellationToken cancellationToken)
    {
        try
        {
            return await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new AcmeException($"{what} failed: cannot reach {request.RequestUri?.GetLeftPart(UriPartial.Authority)}: {ex.Message}", ex);
        }
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpResponseMessage response, CancellationToken cancellationToken) =>
        Parse(await response.Content.ReadAsStringAsync(cancellationToken)) as JsonObject ?? throw new AcmeException("the ACME server sent no JSON object");

    private static JsonNode? Parse(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
