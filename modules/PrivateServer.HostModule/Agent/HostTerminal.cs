using PrivateServer.HostModule.Resources;

namespace PrivateServer.HostModule.Agent;

/// <summary>
/// The host user's terminal: consent questions (one line from standard input: y/yes/j/ja accept,
/// anything else or end of input refuses) and the emergency stop (typing <c>stop</c>). One reader
/// owns standard input; a line answers the pending question if there is one, else it is a command
/// (<c>stop</c>) or, in a session with chat, a chat line (<paramref name="onLine"/> says whether it went anywhere).
/// </summary>
internal sealed class HostTerminal(TextReader input, TextWriter output, Action onStop, Func<string, CancellationToken, Task<bool>>? onLine = null) : IDisposable
{
    private readonly SemaphoreSlim _oneQuestion = new(1, 1);
    private readonly Lock _lock = new();
    private TaskCompletionSource<string?>? _pending;
    private bool _inputClosed;

    /// <summary>Reads standard input until it ends or the host stops.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var line = await input.ReadLineAsync(cancellationToken);
            TaskCompletionSource<string?>? pending;
            lock (_lock)
            {
                if (line is null)
                {
                    _inputClosed = true;
                }

                pending = _pending;
                _pending = null;
            }

            if (line is null)
            {
                pending?.TrySetResult(null);
                return;
            }

            if (pending is not null)
            {
                pending.TrySetResult(line);
            }
            else if (string.Equals(line.Trim(), "stop", StringComparison.OrdinalIgnoreCase))
            {
                onStop();
            }
            else if (line.Trim().Length > 0 && (onLine is null || !await onLine(line, cancellationToken)))
            {
                Say(HostText.TypeStop);
            }
        }
    }

    /// <summary>Asks one question at a time; refuses when input has ended, on timeout, or on anything but yes.</summary>
    public async Task<bool> AskAsync(string question, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await _oneQuestion.WaitAsync(cancellationToken);
        var answer = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            bool closed;
            lock (_lock)
            {
                closed = _inputClosed;
                if (!closed)
                {
                    _pending = answer;
                }
            }

            Say(question + " " + HostText.ConsentHint);
            if (closed)
            {
                Say(HostText.NoInput);
                return false;
            }

            string? line;
            try
            {
                line = await answer.Task.WaitAsync(timeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                Say(HostText.NoAnswer);
                return false;
            }

            return IsYes(line);
        }
        finally
        {
            lock (_lock)
            {
                if (_pending == answer)
                {
                    _pending = null;
                }
            }

            _oneQuestion.Release();
        }
    }

    public static bool IsYes(string? line) => line?.Trim().ToLowerInvariant() is "y" or "yes" or "j" or "ja";

    public void Say(string line)
    {
        lock (_lock)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }

    public void Dispose() => _oneQuestion.Dispose();
}
