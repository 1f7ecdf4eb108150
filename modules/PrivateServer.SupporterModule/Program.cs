using System.CommandLine;
using PrivateServer.Protocol.Transport;
using PrivateServer.SupporterModule.Cli;

namespace PrivateServer.SupporterModule;

/// <summary>Entry point of `privateserver-supporter`: the PrivateServer supporter module, the technician's side of a session.</summary>
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
        new("privateserver-supporter — the PrivateServer supporter module, the technician's side of a session.")
        {
            SupporterVerbs.Login(input, error),
            SupporterVerbs.Hosts(output, error),
            SupporterVerbs.Code(output, error),
            SupporterVerbs.Queue(output, error),
            SupporterVerbs.ConnectCommand(error),
            SupporterVerbs.List(output, error),
            SupporterVerbs.Send(output, error),
            SupporterVerbs.Fetch(output, error),
            SupporterVerbs.SystemInfo(output, error),
            SupporterVerbs.Chat(input, output, error),
            SupporterVerbs.Script(output, error),
            SupporterVerbs.Clip(input, output, error),
        };
}
