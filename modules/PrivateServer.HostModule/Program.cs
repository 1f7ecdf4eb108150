using System.CommandLine;

namespace PrivateServer.HostModule;

/// <summary>Entry point of `privateserver-host`: the PrivateServer host module, run on the PC being helped (installed and unattended, or ad hoc with a session code).</summary>
internal static class Program
{
    public static Task<int> Main(string[] args) =>
        BuildCommand().Parse(args).InvokeAsync(new InvocationConfiguration { Output = Console.Out, Error = Console.Error });

    /// <summary>The verbs of the command-line contract (DESIGN.md) arrive with the issues that build them.</summary>
    internal static RootCommand BuildCommand() => new("privateserver-host — the PrivateServer host module, run on the PC being helped (installed and unattended, or ad hoc with a session code).");
}
