using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.Benchmarks.Peers;

/// <summary>
/// The OpenSSH baseline's server: an sshd of our own on 127.0.0.1:&lt;free port&gt; with its own config,
/// host key, client key and authorized_keys in a 0700 temp folder (public key only, AES-256-GCM, no
/// compression). Killed, and its folder removed, when disposed.
/// </summary>
internal sealed class PrivateSshd : IAsyncDisposable
{
    /// <summary>sshd re-executes itself for every connection, so it insists on an absolute path.</summary>
    private const string SshdPath = "/usr/sbin/sshd";
    private const string Cipher = "aes256-gcm@openssh.com";
    private const string PrivilegeSeparationDirectory = "/run/sshd";

    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(15);

    private readonly string _folder;
    private readonly ChildProcess _sshd;

    private PrivateSshd(string folder, ChildProcess sshd, int port, string userName)
    {
        _folder = folder;
        _sshd = sshd;
        Port = port;
        UserName = userName;
    }

    /// <summary>The port on 127.0.0.1 where sshd listens.</summary>
    public int Port { get; }

    /// <summary>The account ssh logs in as: whoever runs the benchmark (root included).</summary>
    public string UserName { get; }

    /// <summary>The private key that authorized_keys accepts.</summary>
    public string ClientKeyPath => Path.Combine(_folder, "client_ed25519");

    /// <summary>user@127.0.0.1, the last ssh argument.</summary>
    public string Destination => UserName + "@127.0.0.1";

    /// <summary>What sshd printed on standard error so far (LogLevel ERROR).</summary>
    public string Stderr => _sshd.Stderr;

    /// <summary>The listening sshd (each connection's sshd processes are its descendants).</summary>
    public int ProcessId => _sshd.Id;

    public static async Task<PrivateSshd> StartAsync(CancellationToken cancellationToken)
    {
        var folder = Directory.CreateTempSubdirectory("privateserver-sshd-").FullName;
        ChildProcess? sshd = null;
        try
        {
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var hostKey = Path.Combine(folder, "host_ed25519");
            var clientKey = Path.Combine(folder, "client_ed25519");
            await GenerateKeyAsync(hostKey, cancellationToken);
            await GenerateKeyAsync(clientKey, cancellationToken);

            // The key may forward ports and do nothing else (no shell, pty, agent or X11).
            var authorizedKeys = Path.Combine(folder, "authorized_keys");
            var clientPublicKey = await File.ReadAllTextAsync(clientKey + ".pub", cancellationToken);
            await File.WriteAllTextAsync(authorizedKeys, "restrict,port-forwarding " + clientPublicKey, cancellationToken);

            var port = FreePort.Next();
            var config = Path.Combine(folder, "sshd_config");
            await File.WriteAllLinesAsync(
                config,
                [
                    "ListenAddress 127.0.0.1",
                    "Port " + port.ToString(CultureInfo.InvariantCulture),
                    "HostKey " + hostKey,
                    "AuthorizedKeysFile " + authorizedKeys,
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "StrictModes no",
                    "PermitRootLogin prohibit-password",
                    "PidFile " + Path.Combine(folder, "sshd.pid"),
                    "AllowTcpForwarding yes",
                    "Ciphers " + Cipher,
                    "Compression no",
                    "LogLevel ERROR",
                ],
                cancellationToken);

            EnsurePrivilegeSeparationDirectory();
            sshd = ChildProcess.Start(SshdPath, ["-D", "-e", "-f", config]);
            await LoopbackPort.WaitUntilAcceptingAsync(port, sshd, "sshd", StartDeadline, cancellationToken, ExchangeIdentificationAsync);
            return new PrivateSshd(folder, sshd, port, Environment.UserName);
        }
        catch
        {
            if (sshd is not null)
            {
                await sshd.DisposeAsync();
            }

            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// The ssh options every client of this server uses: no user config or agent keys, batch mode,
    /// a throwaway host key trust, the cipher under test, our client key and port. The destination
    /// (<see cref="Destination"/>) still has to follow.
    /// </summary>
    public IReadOnlyList<string> ClientArguments() =>
    [
        "-F", "/dev/null",
        "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=no",
        "-o", "UserKnownHostsFile=/dev/null",
        "-o", "LogLevel=ERROR",
        "-o", "ExitOnForwardFailure=yes",
        "-o", "Ciphers=" + Cipher,
        "-o", "Compression=no",
        "-o", "IdentitiesOnly=yes",
        "-i", ClientKeyPath,
        "-p", Port.ToString(CultureInfo.InvariantCulture),
    ];

    /// <summary>
    /// The whole ssh command line (without "ssh") that listens on 127.0.0.1:LocalPort for each forward,
    /// carries every connection through this server to 127.0.0.1:TargetPort and runs nothing else.
    /// </summary>
    public IReadOnlyList<string> ForwardArguments(IReadOnlyList<(int LocalPort, int TargetPort)> forwards)
    {
        ArgumentNullException.ThrowIfNull(forwards);
        List<string> arguments = ["-N", "-T", .. ClientArguments()];
        foreach (var (localPort, targetPort) in forwards)
        {
            arguments.Add("-L");
            arguments.Add(string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{localPort}:127.0.0.1:{targetPort}"));
        }

        arguments.Add(Destination);
        return arguments;
    }

    public async ValueTask DisposeAsync()
    {
        // A kill of the whole tree: SIGTERM would end only the listener and leave the
        // per-connection sshd processes of still-open tunnels behind.
        await _sshd.DisposeAsync();
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    /// <summary>
    /// Proves sshd answers, not just that its socket is bound: reads its SSH-2.0 banner and sends ours
    /// before closing (closing any earlier makes sshd log an error on every start).
    /// </summary>
    private static async Task ExchangeIdentificationAsync(Socket socket, CancellationToken cancellationToken)
    {
        var banner = new byte[256];
        var length = 0;
        while (length == 0 || banner[length - 1] != (byte)'\n')
        {
            var read = await socket.ReceiveAsync(banner.AsMemory(length), SocketFlags.None, cancellationToken);
            if (read == 0 || length + read == banner.Length)
            {
                throw new InvalidOperationException("sshd closed the probe connection or sent no SSH banner.");
            }

            length += read;
        }

        if (!banner.AsSpan(0, length).StartsWith("SSH-2.0-"u8))
        {
            throw new InvalidOperationException("sshd answered with something other than an SSH-2.0 banner.");
        }

        await socket.SendAsync("SSH-2.0-PrivateServerBenchProbe\r\n"u8.ToArray(), SocketFlags.None, cancellationToken);
    }

    private static async Task GenerateKeyAsync(string path, CancellationToken cancellationToken)
    {
        var result = await ChildProcess.RunAsync(
            "ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "privateserver-bench", "-f", path], cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"ssh-keygen exited with {result.ExitCode}:\n{result.Stderr}");
        }
    }

    /// <summary>sshd started by root refuses to run without its privilege separation directory; as another user it needs none.</summary>
    private static void EnsurePrivilegeSeparationDirectory()
    {
        if (Environment.IsPrivilegedProcess && !Directory.Exists(PrivilegeSeparationDirectory))
        {
            Directory.CreateDirectory(
                PrivilegeSeparationDirectory,
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
    }
}

/// <summary>
/// The OpenSSH baseline's client: one <c>ssh -N -L …</c> process through a <see cref="PrivateSshd"/>,
/// killed when disposed.
/// </summary>
internal sealed class SshForward : IAsyncDisposable
{
    private const string SshPath = "ssh";

    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(15);

    private readonly ChildProcess _ssh;

    private SshForward(ChildProcess ssh, IReadOnlyList<(int LocalPort, int TargetPort)> forwards)
    {
        _ssh = ssh;
        Forwards = forwards;
    }

    public IReadOnlyList<(int LocalPort, int TargetPort)> Forwards { get; }

    /// <summary>What ssh printed on standard error so far (LogLevel ERROR).</summary>
    public string Stderr => _ssh.Stderr;

    /// <summary>The ssh client holding the tunnel.</summary>
    public int ProcessId => _ssh.Id;

    /// <summary>
    /// Starts ssh and returns once every local port accepts connections. ssh sets up its local
    /// listeners only after it has authenticated, and exits if one cannot bind
    /// (ExitOnForwardFailure), so an accepted connection means the tunnel is up. Each local port
    /// gets one probe connection that is closed at once, which the target sees as a short connection.
    /// </summary>
    public static async Task<SshForward> StartAsync(
        PrivateSshd sshd, IReadOnlyList<(int LocalPort, int TargetPort)> forwards, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sshd);
        ArgumentNullException.ThrowIfNull(forwards);
        if (forwards.Count == 0)
        {
            throw new ArgumentException("At least one forward is needed.", nameof(forwards));
        }

        foreach (var (localPort, _) in forwards)
        {
            LoopbackPort.ThrowIfTaken(localPort);
        }

        var ssh = ChildProcess.Start(SshPath, sshd.ForwardArguments(forwards));
        try
        {
            var started = Stopwatch.GetTimestamp();
            foreach (var (localPort, _) in forwards)
            {
                var left = StartDeadline - Stopwatch.GetElapsedTime(started);
                await LoopbackPort.WaitUntilAcceptingAsync(localPort, ssh, "ssh -L", left, cancellationToken);
            }
        }
        catch
        {
            await ssh.DisposeAsync();
            throw;
        }

        return new SshForward(ssh, forwards);
    }

    /// <summary>
    /// Session set-up latency of a fresh <c>ssh -N -L</c> process: the time from starting ssh until one
    /// byte written to its local port comes back from the echo service on <paramref name="targetEchoPort"/>.
    /// Connects every millisecond until ssh listens; ssh is killed afterwards.
    /// </summary>
    public static async Task<TimeSpan> TimeFreshForwardToFirstEchoAsync(
        PrivateSshd sshd, int targetEchoPort, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sshd);
        var localPort = FreePort.Next();
        LoopbackPort.ThrowIfTaken(localPort);
        var arguments = sshd.ForwardArguments([(localPort, targetEchoPort)]);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(StartDeadline);

        var started = Stopwatch.GetTimestamp();
        await using var ssh = ChildProcess.Start(SshPath, arguments);
        try
        {
            using var socket = await LoopbackPort.ConnectWhenListeningAsync(
                localPort, ssh, "ssh -L", TimeSpan.FromMilliseconds(1), deadline.Token);
            socket.NoDelay = true;
            var probe = new byte[] { 0x2A };
            var echo = new byte[1];
            int read;
            try
            {
                await socket.SendAsync(probe, SocketFlags.None, deadline.Token);
                read = await socket.ReceiveAsync(echo, SocketFlags.None, deadline.Token);
            }
            catch (SocketException e)
            {
                // ssh resets the local connection when the channel to the target cannot be opened.
                throw new InvalidOperationException(
                    $"ssh dropped 127.0.0.1:{localPort} ({e.SocketErrorCode}) instead of forwarding to 127.0.0.1:{targetEchoPort}:\n{ssh.Stderr}", e);
            }

            if (read != 1 || echo[0] != probe[0])
            {
                throw new InvalidOperationException(
                    $"ssh closed 127.0.0.1:{localPort} without echoing the byte from 127.0.0.1:{targetEchoPort}:\n{ssh.Stderr}");
            }

            return Stopwatch.GetElapsedTime(started);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"No echo through a fresh ssh -L to 127.0.0.1:{targetEchoPort} within {StartDeadline.TotalSeconds} s:\n{ssh.Stderr}");
        }
    }

    public ValueTask DisposeAsync() => _ssh.DisposeAsync();
}
