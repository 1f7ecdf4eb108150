using System.CommandLine;
using System.Globalization;
using PrivateServer.Server.Admin;

namespace PrivateServer.Appliance.Cli;

/// <summary><c>privateserver group add|list|set</c>.</summary>
internal static class GroupVerbs
{
    public static Command Create(CliContext context) => new("group", "Manages groups of supporters and hosts (works while the server runs).")
    {
        Add(context),
        List(context),
        Set(context),
    };

    private static Option<string?> SignInFromOption() => new("--sign-in-from")
    {
        Description = "The networks the group's members may sign in from: addresses or CIDR, comma-separated (e.g. 10.1.0.0/24,fd00::/8); empty: anywhere.",
        HelpName = "LIST",
    };

    private static Option<string?> HostsFromOption() => new("--hosts-from")
    {
        Description = "The networks the group's hosts may connect from: addresses or CIDR, comma-separated; empty: anywhere.",
        HelpName = "LIST",
    };

    private static string[] Split(string? list) =>
        (list ?? string.Empty).Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

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
        var signInFrom = SignInFromOption();
        var hostsFrom = HostsFromOption();
        var command = new Command("add", "Adds a group.") { name, consent, recording, maxFileSize, twoFactor, signInFrom, hostsFrom };
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            long? limit = null;
            if (parse.GetValue(maxFileSize) is { } size)
            {
                limit = SizeText.TryParse(size, out var bytes) ? bytes : throw new CommandFailedException($"--max-file-size: '{size}' is not a size (bytes, or 500M, 2G …)");
            }

            var request = new AddGroupRequest(parse.GetValue(name)!, parse.GetValue(consent), parse.GetValue(recording) == "on", limit, parse.GetValue(twoFactor))
            {
                SignInFrom = Split(parse.GetValue(signInFrom)),
                HostsFrom = Split(parse.GetValue(hostsFrom)),
            };
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

    /// <summary>Changes parts of a group's policy from the shell: what is not given stays (the admin center changes all of it).</summary>
    private static Command Set(CliContext context)
    {
        var name = new Argument<string>("NAME") { Description = "The group name." };
        var twoFactor = new Option<string?>("--require-two-factor") { Description = "on: the group's members must sign in with a second factor; off: as their role says.", HelpName = "on|off" };
        twoFactor.AcceptOnlyFromAmong("on", "off");
        var signInFrom = SignInFromOption();
        var hostsFrom = HostsFromOption();
        var command = new Command("set", "Changes a group's two-factor and network rules; what is not given stays.") { name, twoFactor, signInFrom, hostsFrom };
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var updated = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse),
                async (administration, token) =>
                {
                    var groups = await administration.ListGroupsAsync(token);
                    var group = groups.FirstOrDefault(g => string.Equals(g.Name, parse.GetValue(name), StringComparison.OrdinalIgnoreCase))
                        ?? throw new CommandFailedException($"no group '{parse.GetValue(name)}'");
                    var request = new UpdateGroupRequest(
                        group.Name, group.UnattendedConsent, group.Features, group.Recording, group.MaxFileSize,
                        parse.GetValue(twoFactor) is { } required ? required == "on" : group.RequireTwoFactor)
                    {
                        SignInFrom = parse.GetValue(signInFrom) is { } members ? Split(members) : group.SignInFrom,
                        HostsFrom = parse.GetValue(hostsFrom) is { } hosts ? Split(hosts) : group.HostsFrom,
                    };
                    return AdminAccess.Unwrap(await administration.UpdateGroupAsync(request, token));
                },
                cancellationToken);
            context.Error.WriteLine(
                $"Group '{updated.Name}': two-factor {(updated.RequireTwoFactor ? "required" : "as the role says")}, members sign in from {Anywhere(updated.SignInFrom)}, hosts connect from {Anywhere(updated.HostsFrom)}.");
            return 0;
        });
        return command;
    }

    private static string Anywhere(IReadOnlyList<string> networks) => networks.Count == 0 ? "anywhere" : string.Join(", ", networks);
}
