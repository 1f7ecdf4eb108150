using PrivateServer.Server.Accounts;

namespace PrivateServer.Server.Scripts;

/// <summary>Which library script a supporter may run, and whether the host's policy lets it run without asking.</summary>
public sealed class ScriptDesk(IScriptStore scripts, IUserStore users, IGroupStore groups)
{
    /// <summary>The script, or why this supporter may not run it (naming the ones they may).</summary>
    public async Task<(Script? Script, string? Refusal)> FindForAsync(string supporter, string name, CancellationToken cancellationToken)
    {
        var user = await users.FindAsync(supporter, cancellationToken);
        var memberOf = user?.Groups ?? [];
        var script = AccountName.IsValid(name) ? await scripts.FindAsync(name, cancellationToken) : null;
        if (script is not null && script.IsFor(memberOf))
        {
            return (script, null);
        }

        var yours = (await scripts.ListAsync(cancellationToken)).Where(s => s.IsFor(memberOf)).Select(s => s.Name).ToList();
        return (null, $"no script '{name}' for your groups; yours: {(yours.Count == 0 ? "none" : string.Join(", ", yours))}");
    }

    /// <summary>"auto" when the host's group lets scripts run without asking its user (unattended consent auto); an ad-hoc customer is always asked.</summary>
    public async Task<string> ConsentAsync(string? hostGroup, CancellationToken cancellationToken) =>
        hostGroup is not null && await groups.FindAsync(hostGroup, cancellationToken) is { UnattendedConsent: UnattendedConsent.Auto } ? "auto" : "ask";
}
