using System.Globalization;

namespace PrivateServer.IntegrationTests.Infrastructure;

/// <summary>
/// A real appliance with a group, a supporter signed in through the real supporter module and
/// helpers to enrol and run real host modules — each test gets its own, in its own temp folders.
/// </summary>
public sealed class SupportRig : IAsyncDisposable
{
    public const string Group = "support";
    public const string Supporter = "alice";
    public const string SupporterPassword = "Alice-Password-2026";

    private readonly List<ChildProcess> _children = [];

    private SupportRig(ApplianceProcess appliance, string root, string fingerprint)
    {
        Appliance = appliance;
        Root = root;
        Fingerprint = fingerprint;
    }

    public ApplianceProcess Appliance { get; }

    /// <summary>A temp folder for module state, removed on dispose.</summary>
    public string Root { get; }

    /// <summary>The appliance CA fingerprint the modules pin.</summary>
    public string Fingerprint { get; }

    public string ServerUrl => "https://127.0.0.1:" + Appliance.Port.ToString(CultureInfo.InvariantCulture);

    public string SupporterState => Path.Combine(Root, "supporter-" + Supporter);

    /// <summary>An appliance with group <see cref="Group"/> (the given consent policy) and supporter <see cref="Supporter"/>, signed in.</summary>
    public static async Task<SupportRig> StartAsync(
        CancellationToken cancellationToken, string consent = "auto", IDictionary<string, string>? environment = null, bool recording = false)
    {
        var appliance = await ApplianceProcess.StartAsync(cancellationToken, environment);
        var root = appliance.DataDirectory + "-modules";
        Directory.CreateDirectory(root);
        var fingerprint = (await appliance.CliAsync(cancellationToken, "ca", "fingerprint")).Stdout.Trim();
        var rig = new SupportRig(appliance, root, fingerprint);
        await MustAsync(appliance.CliAsync(cancellationToken, "group", "add", Group, "--unattended-consent", consent, "--recording", recording ? "on" : "off"));
        await rig.AddSupporterAsync(Supporter, SupporterPassword, Group, cancellationToken);
        await MustAsync(rig.LoginAsync(Supporter, SupporterPassword, rig.SupporterState, cancellationToken));
        return rig;
    }

    public async Task AddSupporterAsync(string name, string password, string group, CancellationToken cancellationToken)
    {
        var file = Path.Combine(Root, name + ".pw");
        await File.WriteAllTextAsync(file, password + "\n", cancellationToken);
        await MustAsync(Appliance.CliAsync(cancellationToken, "user", "add", name, "--role", "supporter", "--group", group, "--password-file", file));
    }

    /// <summary>Runs the supporter module's <c>login</c>, with <c>--totp</c> when a code is given.</summary>
    public async Task<ProcessResult> LoginAsync(string user, string password, string state, CancellationToken cancellationToken, string? totp = null)
    {
        var file = Path.Combine(Root, user + ".pw");
        await File.WriteAllTextAsync(file, password + "\n", cancellationToken);
        string[] code = totp is null ? [] : ["--totp", totp];
        return await ChildProcess.RunAsync(
            Programs.Supporter,
            ["login", "--server", ServerUrl, "--user", user, "--password-file", file, "--ca-fingerprint", Fingerprint, "--state", state, .. code],
            cancellationToken);
    }

    /// <summary>A new one-time token for the group (printed alone on stdout).</summary>
    public async Task<string> EnrollTokenAsync(CancellationToken cancellationToken, string group = Group, string expires = "1h") =>
        (await MustAsync(Appliance.CliAsync(cancellationToken, "enroll-token", "create", "--group", group, "--expires", expires))).Stdout.Trim();

    /// <summary>Enrols a host module under <paramref name="name"/>; returns its state folder.</summary>
    public async Task<string> EnrollHostAsync(string name, CancellationToken cancellationToken, string group = Group) =>
        await EnrollHostWithTokenAsync(name, await EnrollTokenAsync(cancellationToken, group), cancellationToken);

    /// <summary>Enrols a host module under <paramref name="name"/> with the given token; returns its state folder.</summary>
    public async Task<string> EnrollHostWithTokenAsync(string name, string token, CancellationToken cancellationToken)
    {
        var state = Path.Combine(Root, "host-" + name);
        await MustAsync(ChildProcess.RunAsync(
            Programs.Host,
            ["enroll", "--server", ServerUrl, "--token", token, "--ca-fingerprint", Fingerprint, "--name", name, "--state", state],
            cancellationToken));
        return state;
    }

    /// <summary>Starts <c>privateserver-host run</c> and waits until it is online.</summary>
    public Task<ChildProcess> StartHostAsync(string state, CancellationToken cancellationToken, params string[] arguments) =>
        StartHostAsync(state, environment: null, cancellationToken, arguments);

    /// <summary>Like <see cref="StartHostAsync(string, CancellationToken, string[])"/> with extra environment variables.</summary>
    public async Task<ChildProcess> StartHostAsync(
        string state, IDictionary<string, string>? environment, CancellationToken cancellationToken, params string[] arguments)
    {
        var host = Track(ChildProcess.Start(Programs.Host, ["run", "--state", state, .. arguments], environment));
        await host.WaitForStderrAsync("Online as ", cancellationToken);
        return host;
    }

    /// <summary>Starts <c>privateserver-supporter connect</c> (it waits for consent).</summary>
    public ChildProcess StartConnect(string host, params string[] arguments) => StartConnect(host, environment: null, arguments);

    /// <summary>Like <see cref="StartConnect(string, string[])"/> with extra environment variables.</summary>
    public ChildProcess StartConnect(string host, IDictionary<string, string>? environment, params string[] arguments) =>
        Track(ChildProcess.Start(Programs.Supporter, ["connect", host, "--state", SupporterState, .. arguments], environment));

    /// <summary>A new session code of <see cref="Supporter"/> (<c>privateserver-supporter code</c>, printed alone on stdout).</summary>
    public async Task<string> CreateCodeAsync(CancellationToken cancellationToken, string? state = null) =>
        (await MustAsync(ChildProcess.RunAsync(Programs.Supporter, ["code", "--state", state ?? SupporterState], cancellationToken))).Stdout.Trim();

    /// <summary>Starts <c>privateserver-host join</c> with this appliance's address and CA fingerprint.</summary>
    public ChildProcess StartJoin(IEnumerable<string> arguments, IDictionary<string, string>? environment = null, string? workingDirectory = null) =>
        Track(ChildProcess.Start(
            Programs.Host, ["join", "--server", ServerUrl, "--ca-fingerprint", Fingerprint, .. arguments], environment, workingDirectory));

    /// <summary>The local port a running <c>connect</c> forwards to <paramref name="service"/>.</summary>
    public static async Task<int> ForwardPortAsync(ChildProcess connect, string service, CancellationToken cancellationToken)
    {
        var match = await connect.WaitForStderrAsync(@"Forwarding 127\.0\.0\.1:(\d+) -> " + service + "\n", cancellationToken);
        return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    public ChildProcess Track(ChildProcess child)
    {
        _children.Add(child);
        return child;
    }

    public static async Task<ProcessResult> MustAsync(Task<ProcessResult> run)
    {
        var result = await run;
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"a setup step failed ({result.ExitCode}): {result.Stderr}");
        }

        return result;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var child in _children)
        {
            await child.DisposeAsync();
        }

        await Appliance.DisposeAsync();
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }
}
