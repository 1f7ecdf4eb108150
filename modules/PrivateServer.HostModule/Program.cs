using System.CommandLine;
using PrivateServer.Protocol.Transport;
using PrivateServer.HostModule.Cli;

namespace PrivateServer.HostModule;

/// <summary>Entry point of `privateserver-host`: the PrivateServer host module, run on the PC being helped (installed and unattended, or ad hoc with a session code).</summary>
internal static class Program
{
    public static Task<int> Main(string[] args)
    {
        SocketCompletions.PreferInline();
        return BuildCommand(new StreamReader(Console.OpenStandardInput()), Console.Out, Console.Error)
            .Parse(args)
            .InvokeAsync(new InvocationConfiguration { Output = Console.Out, Error = Console.Error });
    }

    internal static RootCommand BuildCommand(TextReader input, TextWriter output, TextWriter error) =>
        new("privateserver-host — the PrivateServer host module, run on the PC being helped (installed and unattended, or ad hoc with a session code).")
        {
            HostVerbs.Enroll(output, error),
            HostVerbs.Run(input, error),
            HostVerbs.Join(input, error),
        };
}
