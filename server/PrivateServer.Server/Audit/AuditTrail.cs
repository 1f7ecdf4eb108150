using Microsoft.Extensions.Logging;

namespace PrivateServer.Server.Audit;

/// <summary>
/// Where the appliance reports security-relevant actions (DESIGN.md, Audit): each becomes one
/// hash-chained event. <see cref="VerifyAsync"/> walks the chain.
/// </summary>
public sealed partial class AuditTrail(IAuditLog log, TimeProvider time, ILogger<AuditTrail> logger, AuditActor? actor = null)
{
    /// <summary>Appends one event stamped now.</summary>
    public async Task RecordAsync(
        string actor, string action, string? target = null, string? sessionId = null, string? source = null,
        IReadOnlyDictionary<string, string>? details = null, CancellationToken cancellationToken = default)
    {
        var appended = await log.AppendAsync(new AuditEntry(time.GetUtcNow(), actor, action, target, sessionId, source, details), cancellationToken);
        LogAppended(logger, appended.Sequence, action, actor);
    }

    /// <summary>
    /// Appends one event stamped now to the chain at once and stores it with the next group of such events, a few
    /// milliseconds later (<see cref="IAuditLog.AppendDeferredAsync"/>): for frequent events that record no change of
    /// their own. Throws, as <see cref="RecordAsync"/> does, when the trail cannot be written.
    /// </summary>
    public async Task RecordDeferredAsync(
        string actor, string action, string? target, string? sessionId, IReadOnlyDictionary<string, string>? details, CancellationToken cancellationToken)
    {
        var appended = await log.AppendDeferredAsync(new AuditEntry(time.GetUtcNow(), actor, action, target, sessionId, null, details), cancellationToken);
        LogAppended(logger, appended.Sequence, action, actor);
    }

    /// <summary>Appends one event done by whoever acts now (<see cref="AuditActor"/>): an admin change.</summary>
    public Task RecordChangeAsync(string action, string? target, IReadOnlyDictionary<string, string>? details, CancellationToken cancellationToken) =>
        RecordAsync(actor?.Current ?? AuditActor.LocalAdmin, action, target, null, actor?.Source, details, cancellationToken);

    /// <summary>An entry stamped now, to be written with the change it records (<see cref="WriteAsync"/>).</summary>
    public AuditEntry Entry(
        string actor, string action, string? target = null, string? sessionId = null, string? source = null, IReadOnlyDictionary<string, string>? details = null) =>
        new(time.GetUtcNow(), actor, action, target, sessionId, source, details);

    /// <summary>An entry of whoever acts now (<see cref="AuditActor"/>), stamped now.</summary>
    public AuditEntry ChangeEntry(string action, string? target, IReadOnlyDictionary<string, string>? details) =>
        Entry(actor?.Current ?? AuditActor.LocalAdmin, action, target, null, actor?.Source, details);

    /// <summary>Writes a change and the events recording it in one transaction: all of it, or nothing.</summary>
    public async Task WriteAsync(AtomicChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        var writer = log as IAtomicWriter ?? throw new InvalidOperationException("this audit storage cannot write a change with its events atomically");
        foreach (var appended in await writer.WriteAsync(change, cancellationToken))
        {
            LogAppended(logger, appended.Sequence, appended.Entry.Action, appended.Entry.Actor);
        }
    }

    /// <summary>Audit details from name/value pairs, leaving out the values that are not there.</summary>
    public static Dictionary<string, string> Details(params (string Name, string? Value)[] details) =>
        details.Where(d => d.Value is not null).ToDictionary(d => d.Name, d => d.Value!, StringComparer.Ordinal);

    /// <summary>Walks the whole trail; names the first modified, removed or reordered event.</summary>
    public async Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken)
    {
        var walker = new AuditChainWalker();
        await foreach (var audit in log.ReadAsync(cancellationToken))
        {
            if (walker.Next(audit) is { } broken)
            {
                return broken;
            }
        }

        return walker.Result;
    }

    [LoggerMessage(EventId = 5000, Level = LogLevel.Debug, Message = "Audit event {Sequence}: {Action} by {Actor}")]
    private static partial void LogAppended(ILogger logger, long sequence, string action, string actor);
}
