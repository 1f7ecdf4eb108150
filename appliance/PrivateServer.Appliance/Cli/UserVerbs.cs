using System.CommandLine;
using System.Globalization;
using PrivateServer.Server.Admin;

namespace PrivateServer.Appliance.Cli;

/// <summary><c>privateserver user add|list</c>.</summary>
internal static class UserVerbs
{
    public static Command Create(CliContext context) => new("user", "Manages user accounts (works while the server runs).")
    {
        Add(context),
        List(context),
    };

    private static Command Add(CliContext context)
    {
        var name = new Argument<string>("NAME") { Description = "The user name." };
        var role = new Option<string>("--role") { Description = "admin, supporter or auditor.", Required = true };
        role.AcceptOnlyFromAmong("admin", "supporter", "auditor");
        var groups = new Option<string[]>("--group") { Description = "A group the user belongs to (repeatable).", HelpName = "G" };
        var email = new Option<string?>("--email") { Description = "E-mail address for invitations and protocols.", HelpName = "E" };
        var passwordFile = new Option<string?>("--password-file")
        {
            Description = "Read the password from this file instead of generating one.",
            HelpName = "F",
        };
        var command = new Command("add", "Adds a user. Prints a generated password alone on standard output.")
        {
            name, role, groups, email, passwordFile,
        };
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var password = parse.GetValue(passwordFile) is { } file ? CliContext.ReadSecretFile(file) : null;
            var request = new AddUserRequest(parse.GetValue(name)!, parse.GetValue(role)!, parse.GetValue(groups) ?? [], parse.GetValue(email), password);
            var created = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse),
                async (administration, token) => AdminAccess.Unwrap(await administration.AddUserAsync(request, token)),
                cancellationToken);

            var memberOf = created.Groups.Count > 0 ? $" in {string.Join(", ", created.Groups)}" : string.Empty;
            context.Error.WriteLine($"Added user '{created.Name}' ({created.Role}){memberOf}.");
            if (created.GeneratedPassword is { } generated)
            {
                context.Error.WriteLine("The generated password follows on standard output; it is shown only this once.");
                context.Out.WriteLine(generated);
            }

            return 0;
        });
        return command;
    }

    private static Command List(CliContext context)
    {
        var command = new Command("list", "Lists users, one per line: name, role, groups, e-mail, state (tab-separated).");
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var users = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse), (administration, token) => administration.ListUsersAsync(token), cancellationToken);
            foreach (var user in users)
            {
                context.Out.WriteLine(string.Join('\t', user.Name, user.Role, string.Join(',', user.Groups), user.Email ?? "-",
                    user.Disabled ? "disabled" : "active", user.CreatedAt.ToString("u", CultureInfo.InvariantCulture)));
            }

            return 0;
        });
        return command;
    }
}
