using System.Diagnostics;
using System.Text;

namespace PrivateServer.IntegrationTests.Infrastructure;

/// <summary>A real program started by a test, its output captured; killed when disposed if still running.</summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Starts a program; its texts are English (LC_ALL=C.UTF-8) unless <paramref name="environment"/> says otherwise.</summary>
    public static ChildProcess Start(
        string file, IEnumerable<string> arguments, IDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? string.Empty,
        };
        info.Environment["LC_ALL"] = "C.UTF-8";
        // Where a child's socket completions run is its own choice (the modules set it, the appliance keeps the runtime's
        // default), not inherited: the bench's load process runs its own inline, as the modules do (README, Performance).
        info.Environment.Remove("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS");
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var child = new ChildProcess(new Process { StartInfo = info });
        child._process.OutputDataReceived += (_, e) => Append(child._stdout, e.Data, child._stdoutClosed);
        child._process.ErrorDataReceived += (_, e) => Append(child._stderr, e.Data, child._stderrClosed);
        child._process.Start();
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs a program to its end and returns what it printed.</summary>
    public static async Task<ProcessResult> RunAsync(
        string file, IEnumerable<string> arguments, CancellationToken cancellationToken, string? standardInput = null, string? workingDirectory = null)
    {
        await using var child = Start(file, arguments, workingDirectory: workingDirectory);
        if (standardInput is not null)
        {
            await child._process.StandardInput.WriteAsync(standardInput.AsMemory(), cancellationToken);
        }

        child._process.StandardInput.Close();
        return await child.WaitForExitAsync(cancellationToken);
    }

    public async Task<ProcessResult> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(cancellationToken);
        return new ProcessResult(_process.ExitCode, Stdout, Stderr);
    }

    /// <summary>Types one line into the program's standard input.</summary>
    public async Task WriteLineAsync(string line, CancellationToken cancellationToken)
    {
        await _process.StandardInput.WriteAsync((line + "\n").AsMemory(), cancellationToken);
        await _process.StandardInput.FlushAsync(cancellationToken);
    }

    /// <summary>Ends the program's standard input.</summary>
    public void CloseInput() => _process.StandardInput.Close();

    /// <summary>Waits until standard error has a line matching <paramref name="pattern"/> (after skipping <paramref name="skip"/> earlier matches) and returns its match.</summary>
    public async Task<System.Text.RegularExpressions.Match> WaitForStderrAsync(string pattern, CancellationToken cancellationToken, int skip = 0)
    {
        var regex = new System.Text.RegularExpressions.Regex(pattern);
        while (true)
        {
            var matches = regex.Matches(Stderr);
            if (matches.Count > skip)
            {
                return matches[skip];
            }

            if (_process.HasExited)
            {
                await Task.Delay(200, cancellationToken);
                matches = regex.Matches(Stderr);
                if (matches.Count > skip)
                {
                    return matches[skip];
                }

                throw new InvalidOperationException($"{_process.StartInfo.FileName} exited with {_process.ExitCode} before printing /{pattern}/:\n{Stderr}");
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>SIGTERM first so the program cleans up after itself; killed (and disposed) if it has not ended after <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        Terminate();
        using var wait = new CancellationTokenSource(grace);
        try
        {
            await WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            // Still running: DisposeAsync kills it.
        }

        await DisposeAsync();
    }

    /// <summary>Sends SIGTERM, as systemd does on stop.</summary>
    public void Terminate()
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static void Append(StringBuilder buffer, string? line, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }

        lock (buffer)
        {
            buffer.Append(line).Append('\n');
        }
    }
}

public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
{
    public IReadOnlyList<string> StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
