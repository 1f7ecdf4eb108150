using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using PrivateServer.Protocol.Control;

namespace PrivateServer.HostModule.Agent;

/// <summary>
/// Runs one library script the host's user allowed: its text in a new private temporary folder, with
/// the named shell, no input, as the module's own user; stopped (with everything it started) at the
/// time limit; the first <see cref="ScriptResult.MaximumOutputLength"/> characters of each output kept.
/// </summary>
internal static class ScriptRunner
{
    public static async Task<ScriptResult> RunAsync(ScriptRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        var folder = Directory.CreateTempSubdirectory("privateserver-script-");
        try
        {
            var file = Path.Combine(folder.FullName, run.Shell == "powershell" ? "script.ps1" : "script.sh");
            await File.WriteAllTextAsync(file, run.Body, cancellationToken);
            if (Command(run.Shell, file) is not { } command)
            {
                return Refused(run, $"the shell '{run.Shell}' is not available on this computer");
            }

            var info = new ProcessStartInfo(command.Program, command.Arguments)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = folder.FullName,
                StandardOutputEncoding = Encoding.UTF8,
                StandardErrorEncoding = Encoding.UTF8,
            };
            using var process = Process.Start(info) ?? throw new Win32Exception($"{command.Program} did not start");
            process.StandardInput.Close();
            var stdout = KeepStartAsync(process.StandardOutput);
            var stderr = KeepStartAsync(process.StandardError);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(TimeSpan.FromSeconds(Math.Max(1, run.TimeoutSeconds)));
            var timedOut = false;
            try
            {
                await process.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
                timedOut = !cancellationToken.IsCancellationRequested;
            }

            var (output, outputCut) = await stdout;
            var (errors, errorsCut) = await stderr;
            return new ScriptResult(run.SessionId, run.RunId, true, timedOut ? null : process.ExitCode, output, errors, timedOut, outputCut || errorsCut, null);
        }
        catch (Win32Exception ex)
        {
            return Refused(run, $"the shell '{run.Shell}' could not be started: {ex.Message}");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    public static ScriptResult Refused(ScriptRun run, string why)
    {
        ArgumentNullException.ThrowIfNull(run);
        return new(run.SessionId, run.RunId, false, null, null, null, false, false, why);
    }

    private static (string Program, string[] Arguments)? Command(string shell, string file) => shell switch
    {
        "bash" when !OperatingSystem.IsWindows() => ("/bin/bash", [file]),
        "sh" when !OperatingSystem.IsWindows() => ("/bin/sh", [file]),
        "powershell" when OperatingSystem.IsWindows() => ("powershell.exe", ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", file]),
        "powershell" when File.Exists("/usr/bin/pwsh") => ("/usr/bin/pwsh", ["-NoProfile", "-NonInteractive", "-File", file]),
        _ => null,
    };

    /// <summary>Reads an output to its end (so the script never blocks on a full pipe) and keeps its start.</summary>
    private static async Task<(string Text, bool Cut)> KeepStartAsync(StreamReader reader)
    {
        var kept = new StringBuilder();
        var buffer = new char[4096];
        var cut = false;
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            var room = ScriptResult.MaximumOutputLength - kept.Length;
            if (read > room)
            {
                cut = true;
            }

            kept.Append(buffer, 0, Math.Max(0, Math.Min(room, read)));
        }

        return (kept.ToString(), cut);
    }
}
