namespace PrivateServer.IntegrationTests.Infrastructure;

/// <summary>The built programs in out/ (<c>make build</c> puts them there).</summary>
public static class Programs
{
    private static readonly Lazy<string> Root = new(FindRepositoryRoot);

    public static string Appliance => Program("privateserver");

    public static string Host => Program("privateserver-host");

    public static string Supporter => Program("privateserver-supporter");

    private static string Program(string name)
    {
        var path = Path.Combine(Root.Value, "out", name);
        return File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing: run 'make build' first.");
    }

    private static string FindRepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "PrivateServer.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("PrivateServer.sln not found above " + AppContext.BaseDirectory);
    }
}
