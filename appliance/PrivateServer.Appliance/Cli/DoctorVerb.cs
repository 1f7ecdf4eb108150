using System.CommandLine;
using PrivateServer.Server.Admin;

namespace PrivateServer.Appliance.Cli;

/// <summary><c>privateserver doctor</c>: what needs an admin's attention, one line per check.</summary>
internal static class DoctorVerb
{
    public static Command Create(CliContext context)
    {
        var command = new Command(
            "doctor",
            "Checks certificate lifetimes (server, CA, module: warnings 30 days ahead), the audit trail, mail and ACME; prints 'ok|warning|problem<TAB>check<TAB>detail' " +
            "per check and exits 0 only when every check is ok (for monitoring).");
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var report = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse), context.Configuration(parse), (administration, token) => administration.DiagnoseAsync(token), cancellationToken);
            foreach (var check in report.Checks)
            {
                context.Out.WriteLine(string.Join('\t', check.Status, check.Name, check.Detail));
            }

            var attention = report.Checks.Count(c => c.Status != ApplianceDoctor.Ok);
            if (attention > 0)
            {
                context.Error.WriteLine($"{attention} of {report.Checks.Count} checks need attention.");
                return 1;
            }

            return 0;
        });
        return command;
    }
}
