using System.CommandLine;
using System.Globalization;
using PrivateServer.Server.Admin;

namespace PrivateServer.Appliance.Cli;

/// <summary><c>privateserver user add|invite|list|locks|unlock|sign-out|reset-two-factor</c>.</summary>
internal static class UserVerbs
{
    public static Command Create(CliContext context) => new("user", "Manages user accounts (works while the server runs).")
    {
        Add(context),
        Invite(context),
        List(context),
        Locks(context),
        Unlock(context),
        SignOut(context),
        ResetTwoFactor(context),
    };

    private static Option<string?> LanguageOption()
    {
        var language = new Option<string?>("--language") { Description = "Language of the invitation mail: de or en (default en).", HelpName = "de|en" };
        language.AcceptOnlyFromAmong("de", "en");
        return language;
    }

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
        var invite = new Option<bool>("--invite")
        {
            Description = "Mail the user a link to choose a password (single use, 72 hours) instead of printing one; needs --email.",
        };
        var language = LanguageOption();
        var command = new Command("add", "Adds a user. Prints a generated password alone on standard output (or, with --invite, the invitation mail's id).")
        {
            name, role, groups, email, passwordFile, invite, language,
        };
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var password = parse.GetValue(passwordFile) is { } file ? CliContext.ReadSecretFile(file) : null;
            var request = new AddUserRequest(
                parse.GetValue(name)!, parse.GetValue(role)!, parse.GetValue(groups) ?? [], parse.GetValue(email), password, parse.GetValue(invite), parse.GetValue(language));
            var created = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse), context.Configuration(parse),
                async (administration, token) => AdminAccess.Unwrap(await administration.AddUserAsync(request, token)),
                cancellationToken);

            var memberOf = created.Groups.Count > 0 ? $" in {string.Join(", ", created.Groups)}" : string.Empty;
            context.Error.WriteLine($"Added user '{created.Name}' ({created.Role}){memberOf}.");
            if (created.GeneratedPassword is { } generated)
            {
                context.Error.WriteLine("The generated password follows on standard output; it is shown only this once.");
                context.Out.WriteLine(generated);
            }

            if (created.InvitationMail is { } mail)
            {
                context.Error.WriteLine($"An invitation to choose a password is in the outbox as mail {mail}.");
                context.Out.WriteLine(mail);
            }

            return 0;
        });
        return command;
    }

    private static Command Invite(CliContext context)
    {
        var name = new Argument<string>("NAME") { Description = "The user name." };
        var language = LanguageOption();
        var command = new Command(
            "invite", "Mails the user a new link to choose a password (single use, 72 hours; older links stop working). Prints the mail's id.")
        {
            name, language,
        };
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var request = new InviteUserRequest(parse.GetValue(name)!, parse.GetValue(language));
            var invited = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse), context.Configuration(parse),
                async (administration, token) => AdminAccess.Unwrap(await administration.InviteUserAsync(request, token)),
                cancellationToken);
            context.Error.WriteLine($"An invitation for '{invited.Name}' is in the outbox as mail {invited.InvitationMail}.");
            context.Out.WriteLine(invited.InvitationMail);
            return 0;
        });
        return command;
    }

    private static Command List(CliContext context)
    {
        var command = new Command("list", "Lists users, one per line: name, role, groups, e-mail, state, created, two-factor on|off (tab-separated).");
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var users = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse), (administration, token) => administration.ListUsersAsync(token), cancellationToken);
            foreach (var user in users)
            {
                context.Out.WriteLine(string.Join('\t', user.Name, user.Role, string.Join(',', user.Groups), user.Email ?? "-",
                    user.Disabled ? "disabled" : "active", user.CreatedAt.ToString("u", CultureInfo.InvariantCulture), user.TwoFactor ? "two-factor:on" : "two-factor:off"));
            }

            return 0;
        });
        return command;
    }

    private static Command Locks(CliContext context)
    {
        var command = new Command(
            "locks",
            "Lists account names and source addresses slowed down or blocked after failed sign-ins: kind, name or address, failures, last failure, blocked until or next attempt (tab-separated).");
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var locks = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse), (administration, token) => administration.ListLoginLocksAsync(token), cancellationToken);
            foreach (var held in locks)
            {
                context.Out.WriteLine(string.Join('\t', held.Kind, held.Subject, held.Failures.ToString(CultureInfo.InvariantCulture),
                    held.LastFailure.ToString("u", CultureInfo.InvariantCulture),
                    held.BlockedUntil is { } until ? "blocked until " + until.ToString("u", CultureInfo.InvariantCulture)
                    : "next attempt " + held.NextAttempt?.ToString("u", CultureInfo.InvariantCulture)));
            }

            if (locks.Count == 0)
            {
                context.Error.WriteLine("No account name or address is slowed down or blocked.");
            }

            return 0;
        });
        return command;
    }

    private static Command Unlock(CliContext context)
    {
        var subject = new Argument<string>("NAME|ADDRESS") { Description = "An account name or a source address (as 'user locks' shows them)." };
        var command = new Command("unlock", "Lifts the sign-in block (and forgets the failures) of an account name or a source address.") { subject };
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var lifted = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse),
                async (administration, token) => AdminAccess.Unwrap(await administration.UnlockLoginAsync(parse.GetValue(subject)!, token)),
                cancellationToken);
            context.Error.WriteLine($"Unlocked {lifted.Kind} {lifted.Subject} ({lifted.Failures.ToString(CultureInfo.InvariantCulture)} failed sign-ins forgotten).");
            return 0;
        });
        return command;
    }

    private static Command SignOut(CliContext context)
    {
        var name = new Argument<string>("NAME") { Description = "The user name." };
        var command = new Command("sign-out", "Signs a user out everywhere: every supporter-module token is revoked and every live session of theirs ends (browser cookies end with a password change or disabling).") { name };
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var user = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse),
                async (administration, token) => AdminAccess.Unwrap(await administration.SignOutUserAsync(parse.GetValue(name)!, token)),
                cancellationToken);
            context.Error.WriteLine($"Signed {user.Name} out everywhere.");
            return 0;
        });
        return command;
    }

    private static Command ResetTwoFactor(CliContext context)
    {
        var name = new Argument<string>("NAME") { Description = "The user name." };
        var command = new Command(
            "reset-two-factor", "Removes a user's two-factor sign-in (lost phone and recovery codes); where it is required they set up a new authenticator at their next sign-in.")
        {
            name,
        };
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var user = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse),
                async (administration, token) => AdminAccess.Unwrap(await administration.ResetTwoFactorAsync(parse.GetValue(name)!, token)),
                cancellationToken);
            context.Error.WriteLine($"Removed the two-factor sign-in of {user.Name}.");
            return 0;
        });
        return command;
    }
}
