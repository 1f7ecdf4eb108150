using PrivateServer.Appliance.Cli;

namespace PrivateServer.Appliance;

internal static class Program
{
    public static Task<int> Main(string[] args) =>
        new ApplianceCli(Console.Out, Console.Error, Environment.GetEnvironmentVariables()).InvokeAsync(args);
}
