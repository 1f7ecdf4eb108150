using System.Collections;
using System.CommandLine;
using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using PrivateServer.Appliance.Hosting;
using PrivateServer.Server.Storage;

namespace PrivateServer.Appliance.Cli;

/// <summary>
/// What every verb shares: the standard streams, the environment, the global options
/// <c>--data</c> and <c>--config</c>, and the rule that a failure is one line on standard error.
/// </summary>
internal sealed class CliContext(TextWriter output, TextWriter error, IDictionary environment)
{
    public const string Name = "privateserver";

    public TextWriter Out { get; } = output;

    public TextWriter Error { get; } = error;

    public Option<string?> Data { get; } = new("--data")
    {
        Description = "The data folder (default ./data; the packages use /var/lib/privateserver).",
        HelpName = "DIR",
        Recursive = true,
    };

    public Option<string?> Config { get; } = new("--config")
    {
        Description = "A JSON config file (default /etc/privateserver/privateserver.json if it exists).",
        HelpName = "FILE",
        Recursive = true,
    };

    /// <summary>The merged configuration for this invocation; <paramref name="flags"/> are extra command-line settings.</summary>
    public IConfigurationRoot Configuration(ParseResult parse, IEnumerable<KeyValuePair<string, string?>>? flags = null)
    {
        var all = new Dictionary<string, string?>(flags ?? []);
        if (parse.GetValue(Data) is { } data)
        {
            all[$"{ApplianceOptions.SectionName}:{nameof(ApplianceOptions.DataDirectory)}"] = data;
        }

        return ApplianceConfiguration.Build(parse.GetValue(Config), environment, all);
    }

    public static T Bind<T>(IConfiguration configuration, string section)
        where T : new()
    {
        var options = new T();
        try
        {
            configuration.GetSection(section).Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            throw new ConfigurationException($"the '{section}' settings are invalid: {ex.Message}", ex);
        }

        var problems = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), problems, validateAllProperties: true))
        {
            throw new ConfigurationException($"the '{section}' settings are invalid: {problems[0].ErrorMessage}");
        }

        return options;
    }

    public DataFolder DataFolder(ParseResult parse) =>
        new(Bind<ApplianceOptions>(Configuration(parse), ApplianceOptions.SectionName).DataDirectory);

    /// <summary>Sets a verb's action so that expected failures print one line and exit 1.</summary>
    public void SetAction(Command command, Func<ParseResult, CancellationToken, Task<int>> action)
    {
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                return await action(parse, cancellationToken);
            }
            catch (Exception ex) when (ex is DataFolderException or ConfigurationException or CommandFailedException or ArgumentException)
            {
                return Fail(ex.Message);
            }
        });
    }

    public int Fail(string message)
    {
        Error.WriteLine($"{Name}: {message}");
        return 1;
    }

    /// <summary>The first line of a file holding a secret (a password file), without its line ending.</summary>
    public static string ReadSecretFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CommandFailedException($"cannot read {path}: {ex.Message}", ex);
        }

        var line = text.Split('\n')[0].TrimEnd('\r');
        return line.Length > 0 ? line : throw new CommandFailedException($"{path} is empty");
    }
}
