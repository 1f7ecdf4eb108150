using System.CommandLine;
using System.Net;
using PrivateServer.Certs.Issuance;
using PrivateServer.Server.Setup;
using PrivateServer.Server.Storage;

namespace PrivateServer.Appliance.Cli;

/// <summary><c>privateserver init</c>: CA, server certificate, database and first admin in a new data folder.</summary>
internal static class InitVerb
{
    public static Command Create(CliContext context)
    {
        var hostnames = new Option<string[]>("--hostname")
        {
            Description = "A DNS name or IP address the server certificate covers (repeatable; localhost, 127.0.0.1 and ::1 are always added).",
            HelpName = "NAME",
        };
        var admin = new Option<string>("--admin")
        {
            Description = "User name of the first admin.",
            DefaultValueFactory = _ => "admin",
        };
        var passwordFile = new Option<string?>("--admin-password-file")
        {
            Description = "Read the admin password from this file instead of generating one.",
            HelpName = "FILE",
        };
        var command = new Command("init", "Initialises a data folder: own CA, server certificate, encrypted database, first admin. Prints a generated admin password once.")
        {
            hostnames,
            admin,
            passwordFile,
        };
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var folder = context.DataFolder(parse);
            var names = new List<SubjectName>();
            foreach (var text in parse.GetValue(hostnames) ?? [])
            {
                names.Add(SubjectName.TryParse(text, out var name, out var error)
                    ? name!
                    : throw new CommandFailedException($"--hostname: {error}"));
            }

            var password = parse.GetValue(passwordFile) is { } file ? CliContext.ReadSecretFile(file) : null;
            var generated = await InitialiseAsync(context, folder, names, parse.GetValue(admin)!, password, cancellationToken);
            if (generated is not null)
            {
                context.Error.WriteLine($"The password of the admin user '{parse.GetValue(admin)}' follows on standard output; it is shown only this once.");
                context.Out.WriteLine(generated);
            }

            return 0;
        });
        return command;
    }

    /// <summary>Initialises <paramref name="folder"/> (this machine's name when no host name is given); returns the generated admin password, if one was generated.</summary>
    public static async Task<string?> InitialiseAsync(
        CliContext context, DataFolder folder, List<SubjectName> names, string admin, string? password, CancellationToken cancellationToken)
    {
        if (names.Count == 0 && SubjectName.TryParse(Dns.GetHostName(), out var machine, out _))
        {
            names.Add(machine!);
        }

        var result = await new ApplianceInitializer(TimeProvider.System).InitialiseAsync(
            folder, new InitRequest(names, admin, password), cancellationToken);
        context.Error.WriteLine($"Initialised PrivateServer in {folder.Root}.");
        context.Error.WriteLine($"CA fingerprint (modules pin it with --ca-fingerprint): {result.CaFingerprint}");
        return result.GeneratedAdminPassword;
    }
}
