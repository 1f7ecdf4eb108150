using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PrivateServer.HostModule.Agent;
using PrivateServer.HostModule.Resources;
using PrivateServer.HostModule.State;
using PrivateServer.Protocol.Api;
using PrivateServer.Protocol.Control;
using PrivateServer.Protocol.Sessions;
using PrivateServer.Protocol.Transport;

namespace PrivateServer.HostModule.Cli;

/// <summary><c>privateserver-host enroll</c>, <c>run</c> and <c>join</c> (DESIGN.md, command-line contract).</summary>
internal static class HostVerbs
{
    public const string Program = "privateserver-host";

    private static Option<string> StateOption() => new("--state")
    {
        Description = "The host's state folder (default: the user's config folder; the installed service uses /var/lib/privateserver-host).",
        DefaultValueFactory = _ => HostState.DefaultDirectory,
        HelpName = "DIR",
    };

    private static Option<string?> ProxyOption() => new("--proxy")
    {
        Description = "HTTP proxy for the connection to the server (CONNECT), e.g. http://proxy:3128. Default: HTTPS_PROXY.",
        HelpName = "URL",
    };

    public static Command Enroll(TextWriter output, TextWriter error)
    {
        var server = new Option<string>("--server") { Description = "The appliance, https://HOST[:PORT].", Required = true, HelpName = "URL" };
        var token = new Option<string>("--token") { Description = "The one-time enrolment token from 'privateserver enroll-token create'.", Required = true, HelpName = "T" };
        var fingerprint = new Option<string>("--ca-fingerprint")
        {
            Description = "SHA-256 of the appliance CA ('privateserver ca fingerprint'); the server must chain to exactly this CA.",
            Required = true,
            HelpName = "HEX",
        };
        var name = new Option<string>("--name") { Description = "The name supporters see (default: this computer's name).", DefaultValueFactory = _ => Environment.MachineName, HelpName = "N" };
        var state = StateOption();
        var proxy = ProxyOption();
        var command = new Command("enroll", "Enrols this host with the appliance: its key pair is made here, the appliance CA certifies it. Prints the host id.")
        {
            server, token, fingerprint, name, state, proxy,
        };
        command.SetAction((parse, cancellationToken) => ModuleCommandLine.RunAsync(Program, error, async () =>
        {
            var folder = new HostState(parse.GetValue(state)!);
            if (folder.IsEnrolled)
            {
                throw new ModuleStateException($"this host is already enrolled (state in {folder.Directory}); remove that folder to enrol it again");
            }

            var serverUri = ModuleClient.ParseServer(parse.GetValue(server)!);
            var pin = ModuleCommandLine.ParsePin(parse.GetValue(fingerprint));
            var proxyUri = ProxyTunnel.Resolve(parse.GetValue(proxy), Environment.GetEnvironmentVariable);
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=" + Sanitize(parse.GetValue(name)!), key, HashAlgorithmName.SHA256);
            using var trusted = await ModuleClient.FetchCaAsync(serverUri, pin, proxyUri, cancellationToken);
            using var client = new ModuleClient(serverUri, pin, trusted, null, proxyUri);
            var enrolled = await client.PostAsync(
                "api/v1/enroll",
                new EnrollRequest(parse.GetValue(token)!, parse.GetValue(name)!, request.CreateSigningRequestPem()),
                ProtocolJson.Default.EnrollRequest, ProtocolJson.Default.EnrollResponse, bearer: null, cancellationToken);

            using var issued = X509Certificate2.CreateFromPem(enrolled.CertificatePem);
            using var ca = X509Certificate2.CreateFromPem(enrolled.CaCertificatePem);
            using var issuedKey = issued.GetECDsaPublicKey();
            if (!pin.Matches(ca) || issuedKey is null || !issuedKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
            {
                throw new IOException("the server's answer does not match this host's key or the pinned CA; nothing was saved");
            }

            folder.Save(
                new HostIdentity(serverUri.GetLeftPart(UriPartial.Authority), enrolled.HostId, enrolled.Name, enrolled.Group, pin.Hex),
                key.ExportPkcs8PrivateKeyPem(), enrolled.CertificatePem, enrolled.CaCertificatePem);
            await output.WriteLineAsync(enrolled.HostId);
            await error.WriteLineAsync($"Enrolled '{enrolled.Name}' as {enrolled.HostId} in group '{enrolled.Group}'; state in {folder.Directory}.");
            return 0;
        }));
        return command;
    }

    public static Command Run(TextReader input, TextWriter error)
    {
        var state = StateOption();
        var proxy = ProxyOption();
        var services = ServiceOption();
        var files = new Option<string?>("--files")
        {
            Description = "Share this folder for file transfer in sessions that are granted it (off without it). Nothing outside it can be read or written; links are not followed.",
            HelpName = "DIR",
        };
        var command = new Command("run", "Stays connected to the appliance and serves consented sessions until stopped (Ctrl+C / SIGTERM).")
        {
            state, services, files, proxy,
        };
        command.SetAction((parse, cancellationToken) => ModuleCommandLine.RunAsync(Program, error, async () =>
        {
            var targets = ParseServices(parse.GetValue(services));
            var proxyUri = ProxyTunnel.Resolve(parse.GetValue(proxy), Environment.GetEnvironmentVariable);
            var shared = parse.GetValue(files) is { } folder ? new FileRoot(folder) : null;
            var (identity, pin, ca, certificate) = new HostState(parse.GetValue(state)!).Load();
            using (ca)
            using (certificate)
            using (var agent = new HostAgent(ModuleClient.ParseServer(identity.Server), pin, ca, certificate, proxyUri, identity.Name, targets, input, error, shared))
            {
                await ServiceHosting.RunAsync(agent.RunAsync, cancellationToken);
            }

            await error.WriteLineAsync(HostText.Stopped);
            return 0;
        }));
        return command;
    }

    public static Command Join(TextReader input, TextWriter error)
    {
        var server = new Option<string>("--server") { Description = "The appliance, https://HOST[:PORT].", Required = true, HelpName = "URL" };
        var code = new Option<string?>("--code") { Description = "The 8-digit session code your supporter gave you.", HelpName = "12345678" };
        var request = new Option<string?>("--request")
        {
            Description = "Instead of a code: ask for help in the waiting queue, e.g. \"Name: what does not work\".",
            HelpName = "TEXT",
        };
        var group = new Option<string?>("--group") { Description = "The support group whose queue gets the request (default: every supporter).", HelpName = "G" };
        var fingerprint = new Option<string>("--ca-fingerprint")
        {
            Description = "SHA-256 of the appliance CA (from your supporter); the server must chain to exactly this CA.",
            Required = true,
            HelpName = "HEX",
        };
        var name = new Option<string>("--name") { Description = "The name your supporter sees (default: this computer's name).", DefaultValueFactory = _ => Environment.MachineName, HelpName = "N" };
        var services = ServiceOption();
        var proxy = ProxyOption();
        var command = new Command(
            "join",
            "Gets help once without installing anything: joins with a supporter's session code (or queues a request), asks your consent, and ends with the session. Writes no files.")
        {
            server, code, request, group, fingerprint, name, services, proxy,
        };
        command.SetAction((parse, cancellationToken) => ModuleCommandLine.RunAsync(Program, error, async () =>
        {
            var ticket = Ticket(parse.GetValue(code), parse.GetValue(request), parse.GetValue(group));
            var targets = ParseServices(parse.GetValue(services));
            var serverUri = ModuleClient.ParseServer(parse.GetValue(server)!);
            var pin = ModuleCommandLine.ParsePin(parse.GetValue(fingerprint));
            var proxyUri = ProxyTunnel.Resolve(parse.GetValue(proxy), Environment.GetEnvironmentVariable);
            using var agent = new AdHocAgent(serverUri, pin, proxyUri, parse.GetValue(name)!, ticket, targets, input, error);
            await agent.RunAsync(cancellationToken);
            return 0;
        }));
        return command;
    }

    private static AdHocTicket Ticket(string? code, string? request, string? group)
    {
        if ((code is null) == (request is null))
        {
            throw new ArgumentException("give either --code (from your supporter) or --request \"Name: problem\"");
        }

        if (code is not null && group is not null)
        {
            throw new ArgumentException("--group goes with --request, not with --code");
        }

        if (code is not null && !SessionCode.TryParse(code, out code))
        {
            throw new ArgumentException("--code: a session code has 8 digits");
        }

        return new AdHocTicket(code, request, group);
    }

    private static Option<string[]> ServiceOption() => new("--service")
    {
        Description = "A service supporters may reach, NAME=HOST:PORT (repeatable). 'screen' is the VNC server: view-only is enforced on it here.",
        HelpName = "NAME=HOST:PORT",
        AllowMultipleArgumentsPerToken = false,
    };

    private static List<ServiceTarget> ParseServices(string[]? values)
    {
        var targets = (values ?? []).Select(ServiceTarget.Parse).ToList();
        var duplicate = targets.GroupBy(t => t.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        return duplicate is null ? targets : throw new ArgumentException($"--service '{duplicate.Key}' is given twice");
    }

    private static string Sanitize(string name)
    {
        var clean = new string(name.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.').Take(64).ToArray());
        return clean.Length > 0 ? clean : "host";
    }
}
