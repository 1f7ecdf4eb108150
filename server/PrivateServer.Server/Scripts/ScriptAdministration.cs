using System.Globalization;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Admin;
using PrivateServer.Server.Audit;

namespace PrivateServer.Server.Scripts;

/// <summary>An admin's script as it is added: the body's text, the shell, and the groups whose supporters may run it.</summary>
public sealed record AddScriptRequest(string Name, string Shell, string Body, IReadOnlyList<string> Groups, int? TimeoutSeconds = null);

/// <summary>A library script as admins and supporters see it (the body only where asked for).</summary>
public sealed record ScriptView(string Name, string Shell, IReadOnlyList<string> Groups, int TimeoutSeconds, string Sha256, DateTimeOffset CreatedAt, string CreatedBy);

/// <summary>Adds, lists and removes the scripts of the library; every change is an audit event with the body's SHA-256.</summary>
public sealed class ScriptAdministration(IScriptStore scripts, IGroupStore groups, AuditTrail audit, TimeProvider time, AuditActor? actor = null)
{
    public async Task<AdminOutcome<ScriptView>> AddAsync(AddScriptRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!AccountName.IsValid(request.Name))
        {
            return AdminOutcome.Fail<ScriptView>(AdminFailureKind.Invalid, $"'{request.Name}' is not a valid script name (letters, digits, '.', '-', '_')");
        }

        if (!Script.Shells.Contains(request.Shell, StringComparer.Ordinal))
        {
            return AdminOutcome.Fail<ScriptView>(AdminFailureKind.Invalid, $"unknown shell '{request.Shell}'; use {string.Join(", ", Script.Shells)}");
        }

        if (string.IsNullOrWhiteSpace(request.Body) || request.Body.Length > Script.MaximumBodyLength || request.Body.Contains('\0', StringComparison.Ordinal))
        {
            return AdminOutcome.Fail<ScriptView>(AdminFailureKind.Invalid, $"a script body is text of 1 to {Script.MaximumBodyLength} characters");
        }

        var timeout = request.TimeoutSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : Script.DefaultTimeout;
        if (timeout <= TimeSpan.Zero || timeout > Script.MaximumTimeout)
        {
            return AdminOutcome.Fail<ScriptView>(AdminFailureKind.Invalid, "a script's time limit is 1 second to 1 hour");
        }

        if (request.Groups is not { Count: > 0 })
        {
            return AdminOutcome.Fail<ScriptView>(AdminFailureKind.Invalid, "name at least one group whose supporters may run the script");
        }

        foreach (var group in request.Groups)
        {
            if (await groups.FindAsync(group, cancellationToken) is null)
            {
                return AdminOutcome.Fail<ScriptView>(AdminFailureKind.Invalid, $"no group '{group}'");
            }
        }

        var script = new Script(request.Name, request.Shell, request.Body.Replace("\r\n", "\n", StringComparison.Ordinal), [.. request.Groups.Distinct(StringComparer.OrdinalIgnoreCase)], timeout, time.GetUtcNow(), actor?.Current ?? AuditActor.LocalAdmin);
        var change = new AtomicChange();
        change.NewScripts.Add(script);
        change.Audit.Add(audit.ChangeEntry(
            "script.added", script.Name,
            AuditTrail.Details(("shell", script.Shell), ("groups", string.Join(' ', script.Groups)), ("sha256", script.Sha256),
                ("timeout-seconds", ((int)script.Timeout.TotalSeconds).ToString(CultureInfo.InvariantCulture)))));
        try
        {
            await audit.WriteAsync(change, CancellationToken.None);
        }
        catch (AtomicConflictException)
        {
            return AdminOutcome.Fail<ScriptView>(AdminFailureKind.Conflict, $"a script '{request.Name}' exists already; remove it first");
        }

        return AdminOutcome.Success(View(script));
    }

    public async Task<IReadOnlyList<ScriptView>> ListAsync(CancellationToken cancellationToken) =>
        [.. (await scripts.ListAsync(cancellationToken)).Select(View)];

    public async Task<AdminOutcome<ScriptView>> RemoveAsync(string name, CancellationToken cancellationToken)
    {
        var script = AccountName.IsValid(name) ? await scripts.FindAsync(name, cancellationToken) : null;
        if (script is null)
        {
            return AdminOutcome.Fail<ScriptView>(AdminFailureKind.NotFound, $"no script '{name}'");
        }

        var change = new AtomicChange();
        change.RemovedScripts.Add(script.Name);
        change.Audit.Add(audit.ChangeEntry("script.removed", script.Name, AuditTrail.Details(("sha256", script.Sha256))));
        try
        {
            await audit.WriteAsync(change, CancellationToken.None);
        }
        catch (AtomicConflictException)
        {
            return AdminOutcome.Fail<ScriptView>(AdminFailureKind.NotFound, $"no script '{name}'");
        }

        return AdminOutcome.Success(View(script));
    }

    public static ScriptView View(Script script)
    {
        ArgumentNullException.ThrowIfNull(script);
        return new(script.Name, script.Shell, script.Groups, (int)script.Timeout.TotalSeconds, script.Sha256, script.CreatedAt, script.CreatedBy);
    }
}
