using System.CommandLine;
using System.Globalization;
using PrivateServer.Server.Admin;

namespace PrivateServer.Appliance.Cli;

/// <summary><c>privateserver enroll-token create</c>, <c>privateserver host list|revoke</c>.</summary>
internal static class HostVerbs
{
    public static Command EnrollToken(CliContext context)
    {
        var group = new Option<string>("--group") { Description = "The group the enrolled host joins.", Required = true, HelpName = "G" };
        var expires = new Option<string>("--expires")
        {
            Description = "How long the token may be used: 30m, 24h (default), 7d; at most 30d.",
            DefaultValueFactory = _ => "24h",
            HelpName = "DURATION",
        };
        var uses = new Option<int>("--uses")
        {
            Description = $"How many hosts may enrol with the token: 1 (default) to {HostAdministration.MaximumTokenUses}, for a mass rollout.",
            DefaultValueFactory = _ => 1,
            HelpName = "N",
        };
        var create = new Command("create", "Creates an enrolment token (for one host, or N with --uses) and prints it alone on standard output.")
        {
            group,
            expires,
            uses,
        };
        context.SetAction(create, async (parse, cancellationToken) =>
        {
            if (!DurationText.TryParse(parse.GetValue(expires), out var lifetime))
            {
                return context.Fail($"--expires '{parse.GetValue(expires)}' is not a duration like 30m, 24h or 7d");
            }

            var request = new CreateEnrollmentTokenRequest(
                parse.GetValue(group)!, (int)Math.Min(lifetime.TotalSeconds, int.MaxValue), parse.GetValue(uses));
            var created = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse),
                async (administration, token) => AdminAccess.Unwrap(await administration.CreateEnrollmentTokenAsync(request, token)),
                cancellationToken);
            var until = created.ExpiresAt.ToString("u", CultureInfo.InvariantCulture);
            context.Out.WriteLine(created.Token);
            context.Error.WriteLine(created.MaxUses == 1
                ? $"One-time enrolment token for group '{created.Group}', valid until {until}."
                : $"Enrolment token for up to {created.MaxUses.ToString(CultureInfo.InvariantCulture)} hosts in group '{created.Group}', valid until {until}.");
            return 0;
        });
        return new Command("enroll-token", "Manages the tokens with which hosts enrol (works while the server runs).") { create };
    }

    public static Command Host(CliContext context) => new("host", "Lists and revokes enrolled hosts (works while the server runs).")
    {
        List(context),
        Revoke(context),
    };

    private static Command List(CliContext context)
    {
        var command = new Command("list", "Lists hosts, one per line: name, id, group, online|offline|revoked, last seen, OS, version (tab-separated).");
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var hosts = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse), (administration, token) => administration.ListHostsAsync(token), cancellationToken);
            foreach (var host in hosts)
            {
                var state = host.Revoked ? "revoked" : host.Online ? "online" : "offline";
                context.Out.WriteLine(string.Join('\t',
                    host.Name, host.Id, host.Group, state,
                    host.LastSeen?.ToString("u", CultureInfo.InvariantCulture) ?? "never",
                    host.Os ?? "-", host.ModuleVersion ?? "-"));
            }

            return 0;
        });
        return command;
    }

    private static Command Revoke(CliContext context)
    {
        var host = new Argument<string>("HOST") { Description = "The host's name or id." };
        var command = new Command("revoke", "Revokes a host: its certificate is refused from now on; a live connection and its streams close.") { host };
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var name = parse.GetValue(host)!;
            var revoked = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse),
                async (administration, token) => AdminAccess.Unwrap(await administration.RevokeHostAsync(name, token)),
                cancellationToken);
            context.Error.WriteLine($"Revoked host '{revoked.Name}' ({revoked.Id}).");
            return 0;
        });
        return command;
    }
}
