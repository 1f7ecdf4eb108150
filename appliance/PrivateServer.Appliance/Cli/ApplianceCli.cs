using System.Collections;
using System.CommandLine;

namespace PrivateServer.Appliance.Cli;

/// <summary>The <c>privateserver</c> command line (DESIGN.md: command-line contract).</summary>
internal sealed class ApplianceCli
{
    /// <summary>Exit code for a command line that does not parse (other failures exit 1).</summary>
    public const int UsageError = 2;

    private readonly CliContext _context;
    private readonly RootCommand _root;

    public ApplianceCli(TextWriter output, TextWriter error, IDictionary environment)
    {
        _context = new CliContext(output, error, environment);
        _root = new RootCommand("privateserver — the PrivateServer remote-support appliance.")
        {
            _context.Data,
            _context.Config,
            InitVerb.Create(_context),
            RunVerb.Create(_context),
            UserVerbs.Create(_context),
            GroupVerbs.Create(_context),
            CaVerbs.Create(_context),
            CertVerbs.Create(_context),
            DoctorVerb.Create(_context),
            HostVerbs.EnrollToken(_context),
            HostVerbs.Host(_context),
            AuditVerbs.Create(_context),
            MailVerbs.Create(_context),
            ScriptVerbs.Create(_context),
        };
    }

    public async Task<int> InvokeAsync(string[] args)
    {
        var parse = _root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            var message = string.Join(' ', parse.Errors[0].Message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            _context.Fail($"{message} (see '{CliContext.Name} --help')");
            return UsageError;
        }

        // 'run' handles SIGINT/SIGTERM itself (the host's console lifetime), closing its connections.
        return await parse.InvokeAsync(new InvocationConfiguration
        {
            Output = _context.Out,
            Error = _context.Error,
            ProcessTerminationTimeout = null,
        });
    }
}
