using System.CommandLine;
using System.Globalization;
using PrivateServer.Server.Tls;

namespace PrivateServer.Appliance.Cli;

/// <summary><c>privateserver cert import|show|rollback</c>: the server certificate browsers see.</summary>
internal static class CertVerbs
{
    public static Command Create(CliContext context) => new("cert", "The server certificate browsers see (modules always get the appliance CA's module certificate).")
    {
        Import(context),
        Acme(context),
        Show(context),
        Rollback(context),
    };

    private static Command Acme(CliContext context)
    {
        var directory = new Option<string>("--directory") { Description = "The internal ACME CA's directory URL (https://).", HelpName = "URL", Required = true };
        var directoryCa = new Option<string?>("--directory-ca") { Description = "The CA the directory's HTTPS certificate chains to (PEM), if not a system root.", HelpName = "FILE" };
        var email = new Option<string?>("--email") { Description = "A contact address for the ACME account.", HelpName = "E" };
        var command = new Command(
            "acme",
            "Gets the server certificate for every host name from an internal ACME CA (RFC 8555, http-01 answered on Acme:Http01Address, port 80 by default), " +
            "installs it without a restart and renews it in the background at two thirds of its lifetime.")
        {
            directory, directoryCa, email,
        };
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var request = new PrivateServer.Server.Tls.Acme.AcmeRequest(
                parse.GetValue(directory)!, parse.GetValue(directoryCa) is { } ca ? await ReadAsync(ca, File.ReadAllTextAsync, cancellationToken) : null, parse.GetValue(email));
            var issued = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse), context.Configuration(parse),
                async (administration, token) => AdminAccess.Unwrap(await administration.ObtainAcmeCertificateAsync(request, token)), cancellationToken);
            context.Error.WriteLine($"Installed {issued.Subject} from {request.Directory}, valid until {issued.NotAfter:u}; it renews itself at two thirds of its lifetime.");
            context.Out.WriteLine(issued.Fingerprint);
            return 0;
        });
        return command;
    }

    private static Command Import(CliContext context)
    {
        var pfx = new Option<string?>("--pfx") { Description = "A PFX (PKCS#12) file with the certificate, its key and chain.", HelpName = "FILE" };
        var certificate = new Option<string?>("--cert") { Description = "The certificate chain as PEM, server certificate first.", HelpName = "CHAIN.pem" };
        var key = new Option<string?>("--key") { Description = "Its private key as PEM (PKCS#8, encrypted with --password-file, or PKCS#1/SEC1).", HelpName = "KEY.pem" };
        var passwordFile = new Option<string?>("--password-file") { Description = "The PFX's or the key's password (first line).", HelpName = "F" };
        var caFile = new Option<string?>("--ca-file") { Description = "The root certificate(s) the chain ends in, if not in the file (PEM).", HelpName = "F" };
        var command = new Command(
            "import",
            "Checks a company server certificate (key, validity for at least 7 days, serverAuth, every host name, complete chain) and serves it from the " +
            "next connection on without a restart; the current one is kept for 'cert rollback'. Nothing changes when a check fails.")
        {
            pfx, certificate, key, passwordFile, caFile,
        };
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var pfxPath = parse.GetValue(pfx);
            var certificatePath = parse.GetValue(certificate);
            var keyPath = parse.GetValue(key);
            if ((pfxPath is null) == (certificatePath is null) || (certificatePath is null) != (keyPath is null))
            {
                throw new CommandFailedException("give either --pfx FILE, or --cert CHAIN.pem with --key KEY.pem");
            }

            var password = parse.GetValue(passwordFile) is { } file ? CliContext.ReadSecretFile(file) : null;
            var request = new CertificateImportRequest(
                pfxPath is null ? null : Convert.ToBase64String(await ReadAsync(pfxPath, File.ReadAllBytesAsync, cancellationToken)),
                certificatePath is null ? null : await ReadAsync(certificatePath, File.ReadAllTextAsync, cancellationToken),
                keyPath is null ? null : await ReadAsync(keyPath, File.ReadAllTextAsync, cancellationToken),
                password,
                parse.GetValue(caFile) is { } ca ? await ReadAsync(ca, File.ReadAllTextAsync, cancellationToken) : null);
            var imported = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse), async (administration, token) => AdminAccess.Unwrap(await administration.ImportCertificateAsync(request, token)), cancellationToken);
            context.Error.WriteLine(
                $"Imported {imported.Subject}, valid until {imported.NotAfter:u}; it is served from the next connection on ('privateserver cert rollback' goes back).");
            context.Out.WriteLine(imported.Fingerprint);
            return 0;
        });
        return command;
    }

    private static Command Show(CliContext context)
    {
        var command = new Command("show", "Prints the server certificate: subject, names, issuers, validity, SHA-256 fingerprint, source (appliance-ca, imported, acme).");
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var shown = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse), (administration, token) => administration.ShowCertificateAsync(token), cancellationToken);
            Print(context, shown);
            return 0;
        });
        return command;
    }

    private static Command Rollback(CliContext context)
    {
        var command = new Command("rollback", "Serves the certificate from before the last import again (the current one becomes the one to go back to).");
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var restored = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse), async (administration, token) => AdminAccess.Unwrap(await administration.RollbackCertificateAsync(token)), cancellationToken);
            context.Error.WriteLine($"Serving {restored.Subject} again, valid until {restored.NotAfter:u}.");
            context.Out.WriteLine(restored.Fingerprint);
            return 0;
        });
        return command;
    }

    private static void Print(CliContext context, CertificateView view)
    {
        context.Out.WriteLine($"subject\t{view.Subject}");
        context.Out.WriteLine($"names\t{string.Join(", ", view.Names)}");
        context.Out.WriteLine($"issuers\t{string.Join(" <- ", view.Chain)}");
        context.Out.WriteLine($"valid\t{view.NotBefore.ToString("u", CultureInfo.InvariantCulture)} - {view.NotAfter.ToString("u", CultureInfo.InvariantCulture)}");
        context.Out.WriteLine($"sha256\t{view.Fingerprint}");
        context.Out.WriteLine($"source\t{view.Source}");
        context.Out.WriteLine($"previous\t{view.PreviousFingerprint ?? "-"}");
    }

    private static async Task<T> ReadAsync<T>(string path, Func<string, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        try
        {
            return await read(path, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CommandFailedException($"cannot read {path}: {ex.Message}", ex);
        }
    }
}
