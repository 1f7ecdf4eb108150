using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using PrivateServer.Protocol.Api;
using PrivateServer.Protocol.Control;
using PrivateServer.Protocol.Transport;
using PrivateServer.SupporterModule.Session;
using PrivateServer.SupporterModule.State;

namespace PrivateServer.SupporterModule.Cli;

/// <summary><c>privateserver-supporter login</c>, <c>hosts</c>, <c>connect</c> (DESIGN.md, command-line contract).</summary>
internal static class SupporterVerbs
{
    public const string Program = "privateserver-supporter";

    private static Option<string> StateOption() => new("--state")
    {
        Description = "Where the sign-in is kept (default: the user's config folder).",
        DefaultValueFactory = _ => SupporterState.DefaultDirectory,
        HelpName = "DIR",
    };

    private static Option<string?> ProxyOption() => new("--proxy")
    {
        Description = "HTTP proxy for the connection to the server (CONNECT). Default: HTTPS_PROXY.",
        HelpName = "URL",
    };

    public static Command Login(TextReader input, TextWriter error)
    {
        var server = new Option<string>("--server") { Description = "The appliance, https://HOST[:PORT].", Required = true, HelpName = "URL" };
        var user = new Option<string>("--user") { Description = "Your user name.", Required = true, HelpName = "NAME" };
        var passwordFile = new Option<string?>("--password-file") { Description = "Read the password from this file (else from standard input).", HelpName = "F" };
        var fingerprint = new Option<string>("--ca-fingerprint") { Description = "SHA-256 of the appliance CA ('privateserver ca fingerprint').", Required = true, HelpName = "HEX" };
        var state = StateOption();
        var proxy = ProxyOption();
        var command = new Command("login", "Signs in and keeps a short-lived token (mode 0600) for the other verbs.") { server, user, passwordFile, fingerprint, state, proxy };
        command.SetAction((parse, cancellationToken) => ModuleCommandLine.RunAsync(Program, error, async () =>
        {
            var serverUri = ModuleClient.ParseServer(parse.GetValue(server)!);
            var pin = ModuleCommandLine.ParsePin(parse.GetValue(fingerprint));
            string password;
            if (parse.GetValue(passwordFile) is { } file)
            {
                password = (await File.ReadAllTextAsync(file, cancellationToken)).TrimEnd('\r', '\n');
            }
            else
            {
                await error.WriteLineAsync($"Password for {parse.GetValue(user)}:");
                password = await input.ReadLineAsync(cancellationToken) ?? string.Empty;
            }

            var proxyUri = ProxyTunnel.Resolve(parse.GetValue(proxy), Environment.GetEnvironmentVariable);
            using var ca = await ModuleClient.FetchCaAsync(serverUri, pin, proxyUri, cancellationToken);
            using var client = new ModuleClient(serverUri, pin, ca, null, proxyUri);
            var issued = await client.PostAsync(
                "api/v1/auth/token", new TokenRequest(parse.GetValue(user)!, password),
                ProtocolJson.Default.TokenRequest, ProtocolJson.Default.TokenResponse, bearer: null, cancellationToken);
            var folder = new SupporterState(parse.GetValue(state)!);
            folder.Save(new SupporterLogin(serverUri.GetLeftPart(UriPartial.Authority), pin.Hex, ca.ExportCertificatePem(), issued.User, issued.Token, issued.ExpiresAt));
            await error.WriteLineAsync($"Signed in as {issued.User} until {issued.ExpiresAt.ToLocalTime().ToString("g", CultureInfo.CurrentCulture)}.");
            return 0;
        }));
        return command;
    }

    public static Command Hosts(TextWriter output, TextWriter error)
    {
        var state = StateOption();
        var proxy = ProxyOption();
        var command = new Command("hosts", "Lists the hosts you may reach: name, id, group, online|offline, last seen, services (tab-separated).") { state, proxy };
        command.SetAction((parse, cancellationToken) => ModuleCommandLine.RunAsync(Program, error, async () =>
        {
            var login = new SupporterState(parse.GetValue(state)!).Load(DateTimeOffset.UtcNow);
            using var ca = X509Certificate2.CreateFromPem(login.CaCertificatePem);
            using var client = Connect(login, ca, parse.GetValue(proxy));
            var hosts = await client.GetAsync("api/v1/hosts", ProtocolJson.Default.ListHostSummary, login.Token, cancellationToken);
            foreach (var host in hosts)
            {
                await output.WriteLineAsync(string.Join('\t',
                    host.Name, host.Id, host.Group, host.Online ? "online" : "offline",
                    host.LastSeen?.ToString("u", CultureInfo.InvariantCulture) ?? "never",
                    string.Join(',', host.Services)));
            }

            return 0;
        }));
        return command;
    }

    public static Command ConnectCommand(TextWriter error)
    {
        var host = new Argument<string>("HOST") { Description = "The host's name or id (see 'hosts')." };
        var forwards = new Option<string[]>("--forward")
        {
            Description = "Relay 127.0.0.1:LOCALPORT to the host's service NAME (repeatable; port 0 picks a free one).",
            HelpName = "NAME=LOCALPORT",
        };
        var viewOnly = new Option<bool>("--view-only") { Description = "Ask only to watch: the host drops keyboard, mouse and clipboard input." };
        var state = StateOption();
        var proxy = ProxyOption();
        var command = new Command("connect", "Opens a session on a host once it consents, and forwards local ports until Ctrl+C.") { host, forwards, viewOnly, state, proxy };
        command.SetAction((parse, cancellationToken) => ModuleCommandLine.RunAsync(Program, error, async () =>
        {
            var wanted = (parse.GetValue(forwards) ?? []).Select(Forward.Parse).ToList();
            var login = new SupporterState(parse.GetValue(state)!).Load(DateTimeOffset.UtcNow);
            using var ca = X509Certificate2.CreateFromPem(login.CaCertificatePem);
            using var client = Connect(login, ca, parse.GetValue(proxy));
            await new SupporterSession(client, login.Token, error).RunAsync(parse.GetValue(host)!, wanted, parse.GetValue(viewOnly), cancellationToken);
            return 0;
        }));
        return command;
    }

    private static ModuleClient Connect(SupporterLogin login, X509Certificate2 ca, string? proxy) =>
        new(ModuleClient.ParseServer(login.Server), ModuleCommandLine.ParsePin(login.CaFingerprint), ca, null,
            ProxyTunnel.Resolve(proxy, Environment.GetEnvironmentVariable));
}
