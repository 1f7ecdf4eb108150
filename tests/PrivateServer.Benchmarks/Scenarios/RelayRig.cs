using System.Globalization;
using PrivateServer.IntegrationTests.Infrastructure;
using PrivateServer.Protocol.Api;
using PrivateServer.Protocol.Control;
using PrivateServer.Protocol.Transport;

namespace PrivateServer.Benchmarks.Scenarios;

/// <summary>
/// The real thing end to end: the appliance, an enrolled <c>privateserver-host run</c> offering
/// the bulk and echo services, and <c>privateserver-supporter connect</c> forwarding both to
/// local ports — all on 127.0.0.1, group consent "auto".
/// </summary>
internal sealed class RelayRig : IAsyncDisposable
{
    public const string HostName = "bench-host";

    private int _recordingsSaved;

    private RelayRig(SupportRig rig, ChildProcess host, ChildProcess connect, int bulkForward, int echoForward)
    {
        Rig = rig;
        Host = host;
        Connect = connect;
        BulkForward = bulkForward;
        EchoForward = echoForward;
    }

    public SupportRig Rig { get; }

    public ChildProcess Host { get; }

    public ChildProcess Connect { get; }

    /// <summary>The supporter's local port forwarded to the host's bulk service.</summary>
    public int BulkForward { get; }

    /// <summary>The supporter's local port forwarded to the host's echo service.</summary>
    public int EchoForward { get; }


    /// <param name="bulkPort">The bulk service.</param>
    /// <param name="echoPort">The echo service.</param>
    /// <param name="cancellationToken">Gives up starting.</param>
    /// <param name="recording">
    /// A group with server-side recording, and the bulk service offered as <c>screen</c> (only screen streams
    /// are recorded; with control the host passes them unfiltered), to measure what recording costs.
    /// </param>
    /// <param name="environment">Extra environment variables for the appliance and its two modules (a variant to compare).</param>
    public static async Task<RelayRig> StartAsync(int bulkPort, int echoPort, CancellationToken cancellationToken, bool recording = false, IDictionary<string, string>? environment = null)
    {
        var rig = await SupportRig.StartAsync(cancellationToken, consent: "auto", environment: environment, recording: recording);
        var bulkName = recording ? "screen" : "bulk";
        try
        {
            var state = await rig.EnrollHostAsync(HostName, cancellationToken);
            // The variant's environment reaches the modules too: a knob of theirs is compared the same way.
            var host = await rig.StartHostAsync(
                state, environment, cancellationToken,
                "--service", bulkName + "=127.0.0.1:" + bulkPort.ToString(CultureInfo.InvariantCulture),
                "--service", "echo=127.0.0.1:" + echoPort.ToString(CultureInfo.InvariantCulture));
            var connect = rig.StartConnect(
                HostName, environment, "--forward", bulkName + "=" + FreePort.Next().ToString(CultureInfo.InvariantCulture),
                "--forward", "echo=" + FreePort.Next().ToString(CultureInfo.InvariantCulture));
            var bulk = await SupportRig.ForwardPortAsync(connect, bulkName, cancellationToken);
            var echo = await SupportRig.ForwardPortAsync(connect, "echo", cancellationToken);
            return new RelayRig(rig, host, connect, bulk, echo);
        }
        catch
        {
            await rig.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Waits until the appliance has saved the next recording (its log line comes after the <c>recording.saved</c>
    /// event); returns how long that took from the call.
    /// </summary>
    public async Task<TimeSpan> WaitForRecordingSavedAsync(CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Rig.Appliance.Server.WaitForStderrAsync(" recorded to ", cancellationToken, skip: _recordingsSaved);
        _recordingsSaved++;
        return clock.Elapsed;
    }

    /// <summary>A module client for the rig's supporter (its own connection pool) and a fresh supporter token.</summary>
    public static async Task<(ModuleClient Client, string Token)> SignInAsync(SupportRig rig, CancellationToken cancellationToken)
    {
        var client = new ModuleClient(new Uri(rig.ServerUrl), ModuleCommandLine.ParsePin(rig.Fingerprint), rig.Appliance.Ca, clientCertificate: null, proxy: null);
        var token = await client.PostAsync(
            "api/v1/auth/token", new TokenRequest(SupportRig.Supporter, SupportRig.SupporterPassword),
            ProtocolJson.Default.TokenRequest, ProtocolJson.Default.TokenResponse, bearer: null, cancellationToken);
        return (client, token.Token);
    }

    /// <summary>The processes a relayed byte passes: the appliance (first) and both modules.</summary>
    public IReadOnlyList<int> PathProcesses() => [Rig.Appliance.Server.Id, Host.Id, Connect.Id];

    public async ValueTask DisposeAsync() => await Rig.DisposeAsync();
}
