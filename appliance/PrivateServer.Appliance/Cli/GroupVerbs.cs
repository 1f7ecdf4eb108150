using System.CommandLine;
using System.Globalization;
using PrivateServer.Server.Admin;

namespace PrivateServer.Appliance.Cli;

/// <summary><c>privateserver group add|list</c>.</summary>
internal static class GroupVerbs
{
    public static Command Create(CliContext context) => new("group", "Manages groups of supporters and hosts (works while the server runs).")
    {
        Add(context),
        List(context),
    };

    private static Command Add(CliContext context)
    {
        var name = new Argument<string>("NAME") { Description = "The group name." };
        var consent = new Option<string>("--unattended-consent")
        {
            Description = "ask: the host's user is asked for every session (default); auto: granted without asking, recorded.",
            DefaultValueFactory = _ => "ask",
        };
        consent.AcceptOnlyFromAmong("ask", "auto");
        var recording = new Option<string>("--recording")
        {
            Description = "on: the screen streams of the group's hosts are recorded on the server; off (default).",
            DefaultValueFactory = _ => "off",
        };
        recording.AcceptOnlyFromAmong("on", "off");
        var maxFileSize = new Option<string?>("--max-file-size")
        {
            Description = "The largest file a session on the group's hosts may send or fetch: bytes or 500M, 2G … (1M to 1T; default 1G).",
            HelpName = "SIZE",
        };
        var twoFactor = new Option<bool>("--require-two-factor") { Description = "The group's members must sign in with a second factor (an authenticator app), whatever their role." };
        var command = new Command("add", "Adds a group.") { name, consent, recording, maxFileSize, twoFactor };
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            long? limit = null;
            if (parse.GetValue(maxFileSize) is { } size)
            {
                limit = SizeText.TryParse(size, out var bytes) ? bytes : throw new CommandFailedException($"--max-file-size: '{size}' is not a size (bytes, or 500M, 2G …)");
            }

            var request = new AddGroupRequest(parse.GetValue(name)!, parse.GetValue(consent), parse.GetValue(recording) == "on", limit, parse.GetValue(twoFactor));
            var created = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse),
                async (administration, token) => AdminAccess.Unwrap(await administration.AddGroupAsync(request, token)),
                cancellationToken);
            context.Error.WriteLine(
                $"Added group '{created.Name}' (unattended consent: {created.UnattendedConsent}, recording: {(created.Recording ? "on" : "off")}, two-factor: {(created.RequireTwoFactor ? "required" : "optional")}, largest file: {created.MaxFileSize} bytes).");
            return 0;
        });
        return command;
    }

    private static Command List(CliContext context)
    {
        var command = new Command("list", "Lists groups, one per line: name, unattended consent, created (tab-separated).");
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var groups = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse), (administration, token) => administration.ListGroupsAsync(token), cancellationToken);
            foreach (var group in groups)
            {
                context.Out.WriteLine(string.Join('\t', group.Name, group.UnattendedConsent, group.CreatedAt.ToString("u", CultureInfo.InvariantCulture)));
            }

            return 0;
        });
        return command;
    }
}
