namespace PrivateServer.Protocol.Transport;

/// <summary>Where a module's socket completions run (the two modules call this first thing in <c>Main</c>).</summary>
public static class SocketCompletions
{
    /// <summary>The runtime's switch; read once, when the first asynchronous socket operation starts.</summary>
    public const string InlineVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// On Linux, lets what follows a socket event run on the thread that polled it instead of a thread-pool worker
    /// woken for it: a module moves bytes between a few sockets and TLS, and each hop to a worker is a thread wake-up
    /// (measured alternating in one run, 2 cores: stream set-up p50 0.88× back to back and 0.90× spaced with both modules
    /// so; README, Performance). Work that takes long (gathering system information, starting a script) is moved to the
    /// thread pool where it starts. A value already in the environment is kept (<c>0</c> turns it off); must run before
    /// the first socket is used.
    /// </summary>
    public static void PreferInline()
    {
        if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable(InlineVariable) is null)
        {
            Environment.SetEnvironmentVariable(InlineVariable, "1");
        }
    }
}
