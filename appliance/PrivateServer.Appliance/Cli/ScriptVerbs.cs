using System.CommandLine;
using System.Globalization;
using PrivateServer.Server.Scripts;

namespace PrivateServer.Appliance.Cli;

/// <summary><c>privateserver script add|list|remove</c>: the library of scripts supporters may run on hosts.</summary>
internal static class ScriptVerbs
{
    public static Command Create(CliContext context) =>
        new("script", "The script library: what supporters of the named groups may run on a host in a session (with the host's consent).")
        {
            Add(context),
            List(context),
            Remove(context),
        };

    private static Command Add(CliContext context)
    {
        var name = new Argument<string>("NAME") { Description = "The script's name (what supporters run)." };
        var shell = new Option<string>("--shell") { Description = "bash, sh or powershell.", Required = true, HelpName = "SHELL" };
        shell.AcceptOnlyFromAmong([.. Script.Shells]);
        var file = new Option<string>("--file") { Description = "The script's text.", Required = true, HelpName = "FILE" };
        var groups = new Option<string[]>("--group") { Description = "A group whose supporters may run it (repeatable, at least one).", Required = true, HelpName = "G" };
        var timeout = new Option<string?>("--timeout") { Description = "How long it may run before the host stops it (90s, 5m …; default 60s, at most 1h).", HelpName = "DURATION" };
        var command = new Command("add", "Adds a script to the library; prints its SHA-256.") { name, shell, file, groups, timeout };
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(file)!;
            string body;
            try
            {
                body = await File.ReadAllTextAsync(path, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CommandFailedException($"cannot read {path}: {ex.Message}", ex);
            }

            int? seconds = null;
            if (parse.GetValue(timeout) is { } text)
            {
                seconds = DurationText.TryParse(text, out var duration) ? (int)Math.Min(int.MaxValue, duration.TotalSeconds) : throw new CommandFailedException($"--timeout: '{text}' is not a duration (90s, 5m …)");
            }

            var request = new AddScriptRequest(parse.GetValue(name)!, parse.GetValue(shell)!, body, parse.GetValue(groups) ?? [], seconds);
            var added = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse), async (administration, token) => AdminAccess.Unwrap(await administration.AddScriptAsync(request, token)), cancellationToken);
            context.Error.WriteLine($"Added script '{added.Name}' ({added.Shell}, for {string.Join(", ", added.Groups)}, at most {added.TimeoutSeconds} s).");
            context.Out.WriteLine(added.Sha256);
            return 0;
        });
        return command;
    }

    private static Command List(CliContext context)
    {
        var command = new Command("list", "Lists the library: name, shell, groups, time limit (s), SHA-256, added, by (tab-separated).");
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var scripts = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse), (administration, token) => administration.ListScriptsAsync(token), cancellationToken);
            foreach (var script in scripts)
            {
                context.Out.WriteLine(string.Join(
                    '\t', script.Name, script.Shell, string.Join(',', script.Groups), script.TimeoutSeconds.ToString(CultureInfo.InvariantCulture),
                    script.Sha256, script.CreatedAt.ToString("u", CultureInfo.InvariantCulture), script.CreatedBy));
            }

            return 0;
        });
        return command;
    }

    private static Command Remove(CliContext context)
    {
        var name = new Argument<string>("NAME") { Description = "The script to remove." };
        var command = new Command("remove", "Removes a script from the library.") { name };
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var removed = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse), async (administration, token) => AdminAccess.Unwrap(await administration.RemoveScriptAsync(parse.GetValue(name)!, token)), cancellationToken);
            context.Error.WriteLine($"Removed script '{removed.Name}'.");
            return 0;
        });
        return command;
    }
}
