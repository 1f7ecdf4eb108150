using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PrivateServer.Server.Audit;

namespace PrivateServer.Server.Broker;

/// <summary>
/// At start, before anyone connects, ends the sessions the last run left running (the appliance stopped or died
/// while they ran): each gets its end, its <c>session.ended</c> event and its protocol mails in one transaction, so
/// no session stays open in the audit trail and the auditors see why it ended. Sessions never outlive the process.
/// </summary>
public sealed partial class InterruptedSessions(
    ISessionLog sessions, AuditTrail audit, TimeProvider time, ILogger<InterruptedSessions> logger, Mail.SessionProtocolMail? protocols = null) : IHostedService
{
    public const string Reason = "the appliance stopped while the session ran";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var session in await sessions.ListUnendedAsync(now, cancellationToken))
        {
            var end = new SessionEnd(session.Id, now, "server", Reason);
            var change = new AtomicChange();
            change.SessionEnds.Add(end);
            change.Audit.Add(audit.Entry(
                "system", "session.ended", session.HostName, session.Id, details: AuditTrail.Details(("by", end.By), ("reason", Reason))));
            var protocol = protocols is null ? null : await protocols.SessionEndsAsync(end, cancellationToken);
            change.MailsFromEvents = protocol is null ? null : protocol.Compose;
            await audit.WriteAsync(change, cancellationToken);
            protocol?.Queued();
            LogInterrupted(logger, session.Id, session.Supporter, session.HostName, session.RequestedAt);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 3150, Level = LogLevel.Warning, Message = "Session {SessionId} of {Supporter} with {HostName} (since {RequestedAt:u}) was running when the appliance stopped: recorded as ended now")]
    private static partial void LogInterrupted(ILogger logger, string sessionId, string supporter, string hostName, DateTimeOffset requestedAt);
}
