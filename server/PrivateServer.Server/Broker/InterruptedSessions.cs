using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PrivateServer.Server.Audit;

namespace PrivateServer.Server.Broker;

/// <summary>
/// At start, before anyone connects, ends the sessions the last run left running (the appliance stopped or died
/// while they ran): each gets its end — at its last recorded activity, the best the trail knows — and its
/// <c>session.ended</c> event in one transaction, so no session stays open in the audit trail and the auditors see
/// why it ended. A session that had started (the host granted it) and was active in the last day also gets its
/// protocol mails in that transaction; older ones (from before sessions were ended at start) and ones still waiting
/// for the host's answer get none. Recordings the stop left unsaved are saved first (hashed into the trail as far as
/// they reached the disk, <see cref="Recording.ScreenRecordings.RecoverAsync"/>). Sessions never outlive the process.
/// </summary>
public sealed partial class InterruptedSessions(
    ISessionLog sessions, IConsentStore consents, IAuditLog trail, AuditTrail audit, TimeProvider time, ILogger<InterruptedSessions> logger,
    Mail.SessionProtocolMail? protocols = null, Recording.ScreenRecordings? recordings = null) : IHostedService
{
    public const string Reason = "the appliance stopped while the session ran";
    private static readonly TimeSpan MailWindow = TimeSpan.FromDays(1);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var unended = new List<(SessionRecord Session, DateTimeOffset LastActivity)>();
        foreach (var session in await sessions.ListUnendedAsync(now, cancellationToken))
        {
            unended.Add((session, await LastActivityAsync(session, cancellationToken)));
        }

        // Recordings cut off by the stop are saved (hashed into the trail as far as they reached the disk) before their
        // sessions end, and after those sessions' last activity was read: saving them is not the session's activity.
        if (recordings is not null)
        {
            try
            {
                await recordings.RecoverAsync(trail, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogRecordingsNotRecovered(logger, ex);
            }
        }

        foreach (var (session, lastActivity) in unended)
        {
            // One session's problem is logged and leaves the others, and the start, going.
            try
            {
                await EndAsync(session, lastActivity, now, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogNotEnded(logger, session.Id, ex);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The time of the session's last event, the best the trail knows (its request when it has none after).</summary>
    private async Task<DateTimeOffset> LastActivityAsync(SessionRecord session, CancellationToken cancellationToken)
    {
        var last = await trail.QueryAsync(null, null, session.Id, newestFirst: true, 1, cancellationToken);
        return last.Count > 0 && last[0].Entry.At > session.RequestedAt ? last[0].Entry.At : session.RequestedAt;
    }

    private async Task EndAsync(SessionRecord session, DateTimeOffset lastActivity, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var end = new SessionEnd(session.Id, lastActivity, "server", Reason);
        var ended = audit.Entry(
            "system", "session.ended", session.HostName, session.Id,
            details: AuditTrail.Details(("by", end.By), ("reason", Reason), ("last-activity", lastActivity.UtcDateTime.ToString("O", CultureInfo.InvariantCulture))));
        var started = await consents.FindAsync(session.Id, cancellationToken) is { Accepted: true };
        var protocol = protocols is not null && started && now - lastActivity <= MailWindow ? await protocols.SessionEndsAsync(end, cancellationToken) : null;
        await SessionEnding.WriteAsync(audit, end, ended, protocol, cancellationToken);
        LogInterrupted(logger, session.Id, session.Supporter, session.HostName, lastActivity);
    }

    [LoggerMessage(EventId = 3150, Level = LogLevel.Warning, Message = "Session {SessionId} of {Supporter} with {HostName} was running when the appliance stopped: recorded as ended at its last activity ({LastActivity:u})")]
    private static partial void LogInterrupted(ILogger logger, string sessionId, string supporter, string hostName, DateTimeOffset lastActivity);

    [LoggerMessage(EventId = 3152, Level = LogLevel.Error, Message = "The recordings the last run left unsaved could not be saved")]
    private static partial void LogRecordingsNotRecovered(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3151, Level = LogLevel.Error, Message = "Session {SessionId}, left running by the last run, could not be recorded as ended")]
    private static partial void LogNotEnded(ILogger logger, string sessionId, Exception exception);
}
