using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using PrivateServer.Protocol.Api;
using PrivateServer.Protocol.Control;
using PrivateServer.Protocol.Sessions;
using PrivateServer.Protocol.Transport;
using PrivateServer.SupporterModule.Session;
using PrivateServer.SupporterModule.State;

namespace PrivateServer.SupporterModule.Cli;

/// <summary><c>privateserver-supporter login</c>, <c>hosts</c>, <c>code</c>, <c>queue</c>, <c>connect</c>, <c>ls</c>, <c>send</c>, <c>fetch</c> (DESIGN.md, command-line contract).</summary>
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
        var totp = new Option<string?>("--totp")
        {
            Description = "For accounts with two-factor sign-in: the code your authenticator app shows now, or one of your recovery codes.",
            HelpName = "CODE",
        };
        var fingerprint = new Option<string>("--ca-fingerprint") { Description = "SHA-256 of the appliance CA ('privateserver ca fingerprint').", Required = true, HelpName = "HEX" };
        var state = StateOption();
        var proxy = ProxyOption();
        var command = new Command("login", "Signs in and keeps a short-lived token (mode 0600) for the other verbs.") { server, user, passwordFile, totp, fingerprint, state, proxy };
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
                "api/v1/auth/token", new TokenRequest(parse.GetValue(user)!, password, parse.GetValue(totp)),
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
        command.SetAction((parse, cancellationToken) => SignedInAsync(parse, state, proxy, error, async (login, client) =>
        {
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
        var host = new Argument<string>("HOST|CODE|REQUEST")
        {
            Description = "An enrolled host's name or id (see 'hosts'), a session code of yours (see 'code'; waits until the customer joins), or a waiting request's id (see 'queue').",
        };
        var forwards = new Option<string[]>("--forward")
        {
            Description = "Relay 127.0.0.1:LOCALPORT to the host's service NAME (repeatable; port 0 picks a free one).",
            HelpName = "NAME=LOCALPORT",
        };
        var viewOnly = new Option<bool>("--view-only") { Description = "Ask only to watch: the host drops keyboard, mouse and clipboard input." };
        var state = StateOption();
        var proxy = ProxyOption();
        var command = new Command("connect", "Opens a session on a host or with a customer once they consent, and forwards local ports until Ctrl+C.")
        {
            host, forwards, viewOnly, state, proxy,
        };
        command.SetAction((parse, cancellationToken) => SignedInAsync(parse, state, proxy, error, async (login, client) =>
        {
            var wanted = (parse.GetValue(forwards) ?? []).Select(Forward.Parse).ToList();
            await new SupporterSession(client, login.Token, error).RunAsync(parse.GetValue(host)!, wanted, parse.GetValue(viewOnly), cancellationToken);
            return 0;
        }));
        return command;
    }

    public static Command Code(TextWriter output, TextWriter error)
    {
        var state = StateOption();
        var proxy = ProxyOption();
        var email = new Option<string?>("--email")
        {
            Description = "Also mail the code, the join command and the support terms to the customer at this address.",
            HelpName = "ADDR",
        };
        var language = new Option<string?>("--language") { Description = "Language of that mail: de or en (default en).", HelpName = "de|en" };
        language.AcceptOnlyFromAmong("de", "en");
        var command = new Command("code", "Creates an ad-hoc session code for a customer who has nothing installed; prints it alone on standard output.")
        {
            state, proxy, email, language,
        };
        command.SetAction((parse, cancellationToken) => SignedInAsync(parse, state, proxy, error, async (login, client) =>
        {
            var created = parse.GetValue(email) is { } address
                ? await client.PostAsync(
                    "api/v1/codes", new SessionCodeRequest(address, parse.GetValue(language)), ProtocolJson.Default.SessionCodeRequest,
                    ProtocolJson.Default.SessionCodeResponse, login.Token, cancellationToken)
                : await client.PostAsync("api/v1/codes", ProtocolJson.Default.SessionCodeResponse, login.Token, cancellationToken);
            await output.WriteLineAsync(created.Code);
            if (created.Mail is { } mail)
            {
                await error.WriteLineAsync($"The code is mailed to {parse.GetValue(email)} (mail {mail}).");
            }

            await error.WriteLineAsync(
                $"Session code {SessionCode.Format(created.Code)}, valid once until {created.ExpiresAt.ToLocalTime().ToString("t", CultureInfo.CurrentCulture)}. " +
                $"The customer runs: privateserver-host join --server {login.Server} --code {created.Code} --ca-fingerprint {login.CaFingerprint} --service screen=127.0.0.1:5900");
            await error.WriteLineAsync($"Then: privateserver-supporter connect {created.Code} --forward screen=0");
            return 0;
        }));
        return command;
    }

    public static Command Queue(TextWriter output, TextWriter error)
    {
        var state = StateOption();
        var proxy = ProxyOption();
        var command = new Command("queue", "Lists the customers waiting for you: request id, waiting since, group, computer, text (tab-separated).") { state, proxy };
        command.SetAction((parse, cancellationToken) => SignedInAsync(parse, state, proxy, error, async (login, client) =>
        {
            var waiting = await client.GetAsync("api/v1/queue", ProtocolJson.Default.ListWaitingRequest, login.Token, cancellationToken);
            foreach (var request in waiting)
            {
                await output.WriteLineAsync(string.Join('\t',
                    request.Id, request.Since.ToString("u", CultureInfo.InvariantCulture), request.Group ?? "-", request.Name, request.Text));
            }

            if (waiting.Count == 0)
            {
                await error.WriteLineAsync("Nobody is waiting.");
            }

            return 0;
        }));
        return command;
    }

    /// <summary><c>ls HOST [PATH]</c>: one line per entry of a folder the host shares: kind, size, modified (UTC), name (tab-separated).</summary>
    public static Command List(TextWriter output, TextWriter error)
    {
        var host = HostArgument();
        var path = new Argument<string>("PATH") { Description = "A folder inside the host's shared folder ('/' between folders; default: the shared folder itself).", DefaultValueFactory = _ => string.Empty };
        var state = StateOption();
        var proxy = ProxyOption();
        var command = new Command("ls", "Lists a folder the host shares for file transfer (asks the host for the files right).") { host, path, state, proxy };
        command.SetAction((parse, cancellationToken) => SignedInAsync(parse, state, proxy, error, async (login, client) =>
        {
            var entries = await new SupporterSession(client, login.Token, error).WithFilesAsync(
                parse.GetValue(host)!, (stream, token) => FileClient.ListAsync(stream, parse.GetValue(path)!, token), cancellationToken);
            foreach (var entry in entries)
            {
                await output.WriteLineAsync(string.Join('\t', entry.Kind, entry.Size.ToString(CultureInfo.InvariantCulture), entry.Modified.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), entry.Name));
            }

            return 0;
        }));
        return command;
    }

    /// <summary><c>send HOST LOCALFILE REMOTEPATH</c>: uploads into the host's shared folder, checked with SHA-256; prints the SHA-256 alone on standard output.</summary>
    public static Command Send(TextWriter output, TextWriter error)
    {
        var host = HostArgument();
        var local = new Argument<string>("LOCALFILE") { Description = "The file to send." };
        var remote = new Argument<string>("REMOTEPATH") { Description = "Where it goes inside the host's shared folder (ending in '/': into that folder under its own name)." };
        var state = StateOption();
        var proxy = ProxyOption();
        var command = new Command("send", "Sends a file into the folder the host shares (resumes an interrupted send of the same file).") { host, local, remote, state, proxy };
        command.SetAction((parse, cancellationToken) => SignedInAsync(parse, state, proxy, error, async (login, client) =>
        {
            var file = parse.GetValue(local)!;
            if (!File.Exists(file))
            {
                throw new ArgumentException($"{file} is not a file");
            }

            var target = parse.GetValue(remote)!;
            if (target.Length == 0 || target.EndsWith('/'))
            {
                target += Path.GetFileName(file);
            }

            var (sha256, resumed) = await new SupporterSession(client, login.Token, error).WithFilesAsync(
                parse.GetValue(host)!, (stream, token) => FileClient.SendAsync(stream, file, target, token), cancellationToken);
            var size = new FileInfo(file).Length;
            await error.WriteLineAsync($"Sent {file} to {target} ({size.ToString("N0", CultureInfo.CurrentCulture)} bytes{Resumed(resumed)}), SHA-256 checked on the host.");
            await output.WriteLineAsync(sha256);
            return 0;
        }));
        return command;
    }

    /// <summary><c>fetch HOST REMOTEPATH LOCALFILE</c>: downloads from the host's shared folder, checked with SHA-256; prints the SHA-256 alone on standard output.</summary>
    public static Command Fetch(TextWriter output, TextWriter error)
    {
        var host = HostArgument();
        var remote = new Argument<string>("REMOTEPATH") { Description = "The file inside the host's shared folder." };
        var local = new Argument<string>("LOCALFILE") { Description = "Where to put it (an existing folder: under the file's own name)." };
        var state = StateOption();
        var proxy = ProxyOption();
        var command = new Command("fetch", "Fetches a file from the folder the host shares (resumes an interrupted fetch from LOCALFILE.part).") { host, remote, local, state, proxy };
        command.SetAction((parse, cancellationToken) => SignedInAsync(parse, state, proxy, error, async (login, client) =>
        {
            var source = parse.GetValue(remote)!;
            var target = parse.GetValue(local)!;
            if (Directory.Exists(target))
            {
                target = Path.Combine(target, source.Split('/', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "file");
            }

            var (sha256, size, resumed) = await new SupporterSession(client, login.Token, error).WithFilesAsync(
                parse.GetValue(host)!, (stream, token) => FileClient.FetchAsync(stream, source, target, token), cancellationToken);
            await error.WriteLineAsync($"Fetched {source} to {target} ({size.ToString("N0", CultureInfo.CurrentCulture)} bytes{Resumed(resumed)}), SHA-256 checked.");
            await output.WriteLineAsync(sha256);
            return 0;
        }));
        return command;
    }

    /// <summary><c>sysinfo HOST [--json]</c>: the host's read-only system information (asks the host for the sysinfo right).</summary>
    public static Command SystemInfo(TextWriter output, TextWriter error)
    {
        var host = new Argument<string>("HOST|CODE|REQUEST") { Description = "An enrolled host's name or id, a session code of yours, or a waiting request's id." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON (for scripts)." };
        var state = StateOption();
        var proxy = ProxyOption();
        var command = new Command("sysinfo", "Shows a host's system information: OS, uptime, CPU, memory, disks, network, users, top processes, services.") { host, json, state, proxy };
        command.SetAction((parse, cancellationToken) => SignedInAsync(parse, state, proxy, error, async (login, client) =>
        {
            var report = await new SupporterSession(client, login.Token, error).WithSystemInfoAsync(parse.GetValue(host)!, SystemInfoText.ReadAsync, cancellationToken);
            await output.WriteAsync(parse.GetValue(json) ? System.Text.Encoding.UTF8.GetString(report.ToJson()) + Environment.NewLine : SystemInfoText.Format(report));
            return 0;
        }));
        return command;
    }

    /// <summary><c>chat HOST|CODE|REQUEST|SESSION</c>: a chat session (or chat in a running one); lines typed go to the host's user, theirs come back on standard output.</summary>
    public static Command Chat(TextReader input, TextWriter output, TextWriter error)
    {
        var host = new Argument<string>("HOST|CODE|REQUEST|SESSION")
        {
            Description = "An enrolled host's name or id, a session code of yours, a waiting request's id, or the id of a running session of yours (se-…, as 'connect' prints it) to chat in beside it.",
        };
        var state = StateOption();
        var proxy = ProxyOption();
        var command = new Command("chat", "Chats with the host's user: each line you type is sent; their lines are printed. Kept in the session protocol.") { host, state, proxy };
        command.SetAction((parse, cancellationToken) => SignedInAsync(parse, state, proxy, error, async (login, client) =>
        {
            await new SupporterSession(client, login.Token, error).ChatAsync(parse.GetValue(host)!, input, output, cancellationToken);
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// <c>clip HOST|CODE|REQUEST [TEXT]</c>: with TEXT ('-': standard input), puts it on the host's clipboard; without, waits
    /// for the next text the host's user copies and prints it (<c>--watch</c>: every one until Ctrl+C). Needs control of the screen.
    /// </summary>
    public static Command Clip(TextReader input, TextWriter output, TextWriter error)
    {
        var host = new Argument<string>("HOST|CODE|REQUEST") { Description = "An enrolled host's name or id, a session code of yours, or a waiting request's id." };
        var text = new Argument<string?>("TEXT") { Description = "Text to put on the host's clipboard ('-': read it from standard input). Without it: print what the host's user copies next.", Arity = ArgumentArity.ZeroOrOne };
        var watch = new Option<bool>("--watch") { Description = "Print every text the host's user copies, one per line, until Ctrl+C." };
        var wait = new Option<int>("--timeout") { Description = "Seconds to wait for the host's user to copy something (default 120).", DefaultValueFactory = _ => 120 };
        var state = StateOption();
        var proxy = ProxyOption();
        var command = new Command("clip", "Clipboard text with a host (needs control of its screen): send TEXT to it, or print what its user copies.") { host, text, watch, wait, state, proxy };
        command.SetAction((parse, cancellationToken) => SignedInAsync(parse, state, proxy, error, async (login, client) =>
        {
            var session = new SupporterSession(client, login.Token, error);
            if (parse.GetValue(text) is { } given)
            {
                var (latin1, replaced) = RfbClipboard.ToLatin1(given == "-" ? await input.ReadToEndAsync(cancellationToken) : given);
                var sent = await session.WithScreenControlAsync(parse.GetValue(host)!, (rfb, token) => RfbClipboard.SendAsync(rfb, latin1, token), cancellationToken);
                await error.WriteLineAsync($"Put {sent.ToString("N0", CultureInfo.CurrentCulture)} characters on the host's clipboard.");
                if (replaced > 0)
                {
                    await error.WriteLineAsync($"{replaced.ToString(CultureInfo.CurrentCulture)} characters outside ISO 8859-1 became '?': RFB carries clipboard text in Latin-1 only.");
                }

                return 0;
            }

            var seconds = parse.GetValue(wait);
            if (seconds <= 0)
            {
                throw new ArgumentException("--timeout must be a positive number of seconds");
            }

            var keepWatching = parse.GetValue(watch);
            try
            {
                await session.WithScreenControlAsync(parse.GetValue(host)!, async (rfb, token) =>
                {
                    // The time limit starts once the host granted control, not while its user is being asked.
                    using var limit = CancellationTokenSource.CreateLinkedTokenSource(token);
                    if (!keepWatching)
                    {
                        limit.CancelAfter(TimeSpan.FromSeconds(seconds));
                    }

                    await error.WriteLineAsync(keepWatching ? "Printing what the host's user copies; Ctrl+C ends." : "Waiting for the host's user to copy text …");
                    try
                    {
                        await RfbClipboard.WatchAsync(rfb, async copied =>
                        {
                            await output.WriteLineAsync(copied);
                            await output.FlushAsync(token);
                            return keepWatching;
                        }, limit.Token);
                    }
                    catch (OperationCanceledException) when (!token.IsCancellationRequested)
                    {
                        throw new TimeoutException($"the host's user copied no text within {seconds.ToString(CultureInfo.InvariantCulture)} s");
                    }

                    return 0;
                }, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && keepWatching)
            {
                // Ctrl+C ends watching.
            }

            return 0;
        }));
        return command;
    }

    /// <summary><c>script HOST|CODE|REQUEST NAME</c>: runs a library script on the host; its output on stdout/stderr, its exit code as ours (124 when stopped at its time limit).</summary>
    public static Command Script(TextWriter output, TextWriter error)
    {
        var host = new Argument<string>("HOST|CODE|REQUEST") { Description = "An enrolled host's name or id, a session code of yours, or a waiting request's id." };
        var name = new Argument<string>("NAME") { Description = "A script of your groups in the admins' library (never free text)." };
        var state = StateOption();
        var proxy = ProxyOption();
        var command = new Command("script", "Runs a library script on a host, once its user allows it (or its group's policy does); exits with the script's exit code.") { host, name, state, proxy };
        command.SetAction((parse, cancellationToken) => SignedInAsync(parse, state, proxy, error, async (login, client) =>
        {
            var finished = await new SupporterSession(client, login.Token, error).RunScriptAsync(parse.GetValue(host)!, parse.GetValue(name)!, cancellationToken);
            if (!finished.Ran)
            {
                throw new IOException($"the script '{finished.Script}' was not run: {finished.Refusal}");
            }

            await output.WriteAsync(finished.Stdout ?? string.Empty);
            await error.WriteAsync(finished.Stderr ?? string.Empty);
            if (finished.Truncated)
            {
                await error.WriteLineAsync($"(output cut after {ScriptResult.MaximumOutputLength} characters per stream)");
            }

            if (finished.TimedOut)
            {
                await error.WriteLineAsync($"The script '{finished.Script}' was stopped at its time limit.");
                return 124;
            }

            await error.WriteLineAsync($"The script '{finished.Script}' ended with exit code {finished.ExitCode}.");
            return finished.ExitCode ?? 1;
        }));
        return command;
    }

    private static Argument<string> HostArgument() => new("HOST")
    {
        Description = "An enrolled host's name or id (see 'hosts'); its module must share a folder (--files).",
    };

    private static string Resumed(long bytes) =>
        bytes > 0 ? $", continued after {bytes.ToString("N0", CultureInfo.CurrentCulture)} bytes already there" : string.Empty;

    /// <summary>Runs a verb that needs the sign-in: loads it (or fails with one line) and connects to its server.</summary>
    private static Task<int> SignedInAsync(
        ParseResult parse, Option<string> state, Option<string?> proxy, TextWriter error, Func<SupporterLogin, ModuleClient, Task<int>> verb) =>
        ModuleCommandLine.RunAsync(Program, error, async () =>
        {
            var login = new SupporterState(parse.GetValue(state)!).Load(DateTimeOffset.UtcNow);
            using var ca = X509Certificate2.CreateFromPem(login.CaCertificatePem);
            using var client = Connect(login, ca, parse.GetValue(proxy));
            return await verb(login, client);
        });

    private static ModuleClient Connect(SupporterLogin login, X509Certificate2 ca, string? proxy) =>
        new(ModuleClient.ParseServer(login.Server), ModuleCommandLine.ParsePin(login.CaFingerprint), ca, null,
            ProxyTunnel.Resolve(proxy, Environment.GetEnvironmentVariable));
}
