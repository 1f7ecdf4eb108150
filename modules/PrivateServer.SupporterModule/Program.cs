using System.CommandLine;

namespace PrivateServer.SupporterModule;

/// <summary>Entry point of `privateserver-supporter`: the PrivateServer supporter module, the technician's side of a session.</summary>
internal static class Program
{
    public static Task<int> Main(string[] args) =>
        BuildCommand().Parse(args).InvokeAsync(new InvocationConfiguration { Output = Console.Out, Error = Console.Error });

    /// <summary>The verbs of the command-line contract (DESIGN.md) arrive with the issues that build them.</summary>
    internal static RootCommand BuildCommand() => new("privateserver-supporter — the PrivateServer supporter module, the technician's side of a session.");
}
