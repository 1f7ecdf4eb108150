using System.CommandLine;
using PrivateServer.Certs.Authority;
using PrivateServer.Server.Tls;

namespace PrivateServer.Appliance.Cli;

/// <summary><c>privateserver ca fingerprint|export</c>: what modules and browsers need to trust the appliance CA.</summary>
internal static class CaVerbs
{
    public static Command Create(CliContext context) => new("ca", "The appliance's own certificate authority.")
    {
        Fingerprint(context),
        Export(context),
    };

    private static Command Fingerprint(CliContext context)
    {
        var command = new Command("fingerprint", "Prints the SHA-256 of the CA certificate (DER) in hex, alone on standard output.");
        context.SetAction(command, (parse, _) =>
        {
            var folder = context.DataFolder(parse);
            folder.EnsureInitialised();
            using var ca = ServerCertificateStore.LoadCaCertificate(folder);
            context.Out.WriteLine(CertificateFingerprint.Sha256Hex(ca));
            return Task.FromResult(0);
        });
        return command;
    }

    private static Command Export(CliContext context)
    {
        var output = new Option<string>("--out") { Description = "Where to write the CA certificate (PEM).", HelpName = "FILE", Required = true };
        var command = new Command("export", "Writes the CA certificate as PEM, for browsers, curl --cacert or a company trust store.") { output };
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var folder = context.DataFolder(parse);
            folder.EnsureInitialised();
            using var ca = ServerCertificateStore.LoadCaCertificate(folder);
            var path = Path.GetFullPath(parse.GetValue(output)!);
            try
            {
                await File.WriteAllTextAsync(path, ca.ExportCertificatePem() + "\n", cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CommandFailedException($"cannot write {path}: {ex.Message}", ex);
            }

            context.Error.WriteLine($"Wrote the appliance CA certificate to {path}.");
            return 0;
        });
        return command;
    }
}
