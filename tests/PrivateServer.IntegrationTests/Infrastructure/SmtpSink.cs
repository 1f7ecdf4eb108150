using System.Globalization;
using MimeKit;

namespace PrivateServer.IntegrationTests.Infrastructure;

/// <summary>How the test smarthost speaks: plain, STARTTLS required, or TLS from the first byte.</summary>
public enum SmtpMode
{
    Plain,
    StartTls,
    Tls,
}

/// <summary>
/// A real SMTP server for one test: Debian's aiosmtpd (<c>/usr/bin/python3</c>, not a pyenv one) on a
/// 127.0.0.1 port, delivering into a Maildir, optionally with TLS (a certificate from the test's own
/// CA) and AUTH (only after TLS). It can be stopped and started again on the same port and Maildir, as a
/// smarthost that goes down and comes back. Disposing stops it and removes its folder.
/// </summary>
public sealed class SmtpSink : IAsyncDisposable
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    // aiosmtpd's Controller runs the server in a thread; SIGTERM stops it. Credentials come from the
    // environment so they appear in no process list.
    private const string Script = """
        import argparse, os, signal, ssl, sys, threading
        from aiosmtpd.controller import Controller
        from aiosmtpd.handlers import Mailbox
        from aiosmtpd.smtp import AuthResult, LoginPassword

        parser = argparse.ArgumentParser()
        parser.add_argument("--port", type=int, required=True)
        parser.add_argument("--maildir", required=True)
        parser.add_argument("--mode", choices=["plain", "starttls", "tls"], default="plain")
        parser.add_argument("--cert")
        parser.add_argument("--key")
        args = parser.parse_args()
        user = os.environ.get("SINK_USER")
        password = os.environ.get("SINK_PASSWORD")

        def authenticate(server, session, envelope, mechanism, data):
            ok = isinstance(data, LoginPassword) and data.login.decode() == user and data.password.decode() == password
            return AuthResult(success=ok, handled=False)

        options = {"hostname": "127.0.0.1", "port": args.port}
        if args.mode != "plain":
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(args.cert, args.key)
            if args.mode == "starttls":
                options.update(tls_context=context, require_starttls=True)
            else:
                options.update(ssl_context=context)
        if user:
            # Implicit TLS is encrypted from the first byte, but aiosmtpd only counts STARTTLS as TLS.
            options.update(authenticator=authenticate, auth_required=True, auth_require_tls=args.mode == "starttls")
        controller = Controller(Mailbox(args.maildir), **options)
        controller.start()
        print("ready", flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        stop.wait()
        controller.stop()
        """;

    private readonly string _folder;
    private readonly SmtpMode _mode;
    private (string Ca, string Certificate, string Key)? _tls;
    private ChildProcess? _process;

    private SmtpSink(string folder, SmtpMode mode)
    {
        _folder = folder;
        _mode = mode;
        Port = FreePort.Next();
    }

    /// <summary>The password the secured smarthost wants from the user <c>mailer</c>.</summary>
    public static string Password => "Sm4rthost-Secret";

    /// <summary>The test CA the secured smarthost's certificate comes from (PEM).</summary>
    public string CaFile => _tls?.Ca ?? throw new InvalidOperationException("a plain smarthost has no certificate");

    /// <summary>The appliance's password file for the secured smarthost (rewrite it to change what the appliance sends).</summary>
    public string PasswordFile => Path.Combine(_folder, "smtp.pw");

    public int Port { get; }

    public string Maildir => Path.Combine(_folder, "Maildir");

    public bool Running => _process is { HasExited: false };

    /// <summary>
    /// Settings for the appliance (<c>PRIVATESERVER__Mail__*</c>) pointing at this server, with its security and, when
    /// secured, the user and password file — but no trust for the test CA (set Mail:Trust and Mail:CaFile for that).
    /// </summary>
    public Dictionary<string, string> ApplianceSettings()
    {
        var settings = new Dictionary<string, string>
        {
            ["PRIVATESERVER__Mail__Host"] = "127.0.0.1",
            ["PRIVATESERVER__Mail__Port"] = Port.ToString(CultureInfo.InvariantCulture),
            ["PRIVATESERVER__Mail__Security"] = _mode switch { SmtpMode.Tls => "Tls", SmtpMode.StartTls => "StartTls", _ => "None" },
            ["PRIVATESERVER__Mail__From"] = "PrivateServer <support@rs.example.internal>",
            ["PRIVATESERVER__Mail__RetryDelay"] = "00:00:01",
            ["PRIVATESERVER__Mail__MaximumRetryDelay"] = "00:00:02",
        };
        if (_tls is not null)
        {
            settings["PRIVATESERVER__Mail__User"] = "mailer";
            settings["PRIVATESERVER__Mail__PasswordFile"] = PasswordFile;
        }

        return settings;
    }

    /// <summary>A plain smarthost; with <paramref name="start"/> false it is "down" until <see cref="StartAsync"/>.</summary>
    public static Task<SmtpSink> CreateAsync(CancellationToken cancellationToken, bool start = true) =>
        CreateAsync(SmtpMode.Plain, null, start, cancellationToken);

    /// <summary>
    /// A smarthost with TLS (a certificate from the test's own CA, <see cref="CaFile"/>) that wants the user
    /// <c>mailer</c> with password <see cref="Password"/>; the appliance's password file (<see cref="PasswordFile"/>)
    /// holds <paramref name="givenPassword"/>.
    /// </summary>
    public static Task<SmtpSink> CreateSecuredAsync(SmtpMode mode, string givenPassword, CancellationToken cancellationToken) =>
        CreateAsync(mode, givenPassword, start: true, cancellationToken);

    private static async Task<SmtpSink> CreateAsync(SmtpMode mode, string? givenPassword, bool start, CancellationToken cancellationToken)
    {
        var sink = new SmtpSink(Directory.CreateTempSubdirectory("ps-smtp-").FullName, mode);
        try
        {
            await File.WriteAllTextAsync(Path.Combine(sink._folder, "sink.py"), Script, cancellationToken);
            if (givenPassword is not null)
            {
                sink._tls = TestCa.WriteServerCertificate(sink._folder);
                await File.WriteAllTextAsync(sink.PasswordFile, givenPassword + "\n", cancellationToken);
            }

            if (start)
            {
                await sink.StartAsync(cancellationToken);
            }

            return sink;
        }
        catch
        {
            await sink.DisposeAsync();
            throw;
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var arguments = new List<string> { Path.Combine(_folder, "sink.py"), "--port", Port.ToString(CultureInfo.InvariantCulture), "--maildir", Maildir };
        if (_mode != SmtpMode.Plain)
        {
            var (_, certificate, key) = _tls ?? throw new InvalidOperationException("TLS needs a certificate and key");
            arguments.AddRange(["--mode", _mode == SmtpMode.Tls ? "tls" : "starttls", "--cert", certificate, "--key", key]);
        }

        var environment = new Dictionary<string, string>();
        if (_tls is not null)
        {
            environment["SINK_USER"] = "mailer";
            environment["SINK_PASSWORD"] = Password;
        }

        var process = ChildProcess.Start("/usr/bin/python3", arguments, environment);
        try
        {
            // "ready" comes after the controller answered its own test connection.
            while (!process.Stdout.Contains("ready", StringComparison.Ordinal))
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"aiosmtpd exited with {process.ExitCode}: {process.Stderr}");
                }

                await Task.Delay(50, cancellationToken);
            }
        }
        catch
        {
            await process.StopAsync(StopGrace);
            throw;
        }

        _process = process;
    }

    /// <summary>Stops the server (the Maildir stays).</summary>
    public async Task StopAsync()
    {
        if (_process is not null)
        {
            await _process.StopAsync(StopGrace);
            _process = null;
        }
    }

    /// <summary>The mails delivered so far, oldest first.</summary>
    public IReadOnlyList<MimeMessage> Messages()
    {
        var folder = Path.Combine(Maildir, "new");
        if (!Directory.Exists(folder))
        {
            return [];
        }

        return Directory.GetFiles(folder).Select(f => (File: f, Time: File.GetLastWriteTimeUtc(f))).OrderBy(f => f.Time).ThenBy(f => f.File, StringComparer.Ordinal)
            .Select(f => MimeMessage.Load(f.File)).ToList();
    }

    /// <summary>Waits until at least <paramref name="count"/> mails arrived (30 s at most) and returns them all.</summary>
    public async Task<IReadOnlyList<MimeMessage>> WaitForMessagesAsync(int count, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(TimeSpan.FromSeconds(30));
        while (true)
        {
            var messages = Messages();
            if (messages.Count >= count)
            {
                return messages;
            }

            try
            {
                await Task.Delay(100, limit.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{messages.Count} of {count} mails arrived at the test smarthost within 30 s: {_process?.Stderr}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}
