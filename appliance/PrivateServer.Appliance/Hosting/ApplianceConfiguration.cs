using System.Collections;
using Microsoft.Extensions.Configuration;

namespace PrivateServer.Appliance.Hosting;

/// <summary>
/// Configuration, lowest to highest precedence: the embedded appsettings.json defaults, the
/// config file (<c>--config FILE</c>, else /etc/privateserver/privateserver.json if present),
/// environment variables <c>PRIVATESERVER__Section__Key</c>, then command-line flags.
/// </summary>
public static class ApplianceConfiguration
{
    public const string EnvironmentPrefix = "PRIVATESERVER__";

    public static string DefaultConfigFile => OperatingSystem.IsWindows()
        ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.CommonApplicationData), "PrivateServer", "privateserver.json")
        : "/etc/privateserver/privateserver.json";

    /// <param name="configFile">The <c>--config</c> value, or null for the default file if it exists.</param>
    /// <param name="environment">Environment variables (the process's, or a test's own).</param>
    /// <param name="flags">Command-line flags as configuration keys (<c>Appliance:DataDirectory</c>...).</param>
    /// <param name="defaultConfigFile">Where to look when <paramref name="configFile"/> is null.</param>
    public static IConfigurationRoot Build(
        string? configFile, IDictionary environment, IReadOnlyDictionary<string, string?> flags, string? defaultConfigFile = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(flags);
        var builder = new ConfigurationBuilder();
        using (var defaults = typeof(ApplianceConfiguration).Assembly.GetManifestResourceStream("PrivateServer.Appliance.appsettings.json")
            ?? throw new InvalidOperationException("The embedded appsettings.json is missing."))
        {
            builder.AddJsonStream(CopyOf(defaults));
        }

        var file = configFile is not null ? Path.GetFullPath(configFile) : defaultConfigFile ?? DefaultConfigFile;
        if (configFile is not null && !File.Exists(file))
        {
            throw new ConfigurationException($"the config file {file} does not exist");
        }

        if (File.Exists(file))
        {
            builder.AddJsonFile(file, optional: false, reloadOnChange: false);
        }

        builder.AddInMemoryCollection(FromEnvironment(environment));
        builder.AddInMemoryCollection(flags);
        try
        {
            return builder.Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or IOException)
        {
            throw new ConfigurationException($"cannot read the config file {file}: {(ex.InnerException ?? ex).Message}", ex);
        }
    }

    /// <summary>PRIVATESERVER__Section__Key=value becomes Section:Key=value; other variables are ignored.</summary>
    public static IEnumerable<KeyValuePair<string, string?>> FromEnvironment(IDictionary environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        foreach (DictionaryEntry entry in environment)
        {
            if (entry.Key is string name && name.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
            {
                yield return new(name[EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal), entry.Value as string);
            }
        }
    }

    private static MemoryStream CopyOf(Stream stream)
    {
        var copy = new MemoryStream();
        stream.CopyTo(copy);
        copy.Position = 0;
        return copy;
    }
}
