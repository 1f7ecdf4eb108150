using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Broker;

namespace PrivateServer.Server.Mail;

/// <summary>
/// When a session ends, its protocol goes by mail to the supporter (if the account has an address) and to
/// <see cref="MailOptions.AuditMailbox"/>: who, which host, when, how long, rights asked and granted, consent,
/// how it ended, and every audit event of the session — with a link to the auditor's page for it. Each protocol
/// mail carries a key (session and recipient), so <see cref="CatchUpAsync"/> at start queues what a crash between
/// a session's end and its mail left out, and nothing twice.
/// </summary>
public sealed partial class SessionProtocolMail(
    ISessionLog sessions, IConsentStore consents, IUserStore users, IAuditLog trail, IOutbox outbox, Mailer mailer, IOptionsMonitor<MailOptions> options,
    TimeProvider time, ILogger<SessionProtocolMail> logger)
{
    private const int MaximumEvents = 500;
    private static readonly TimeSpan CatchUpWindow = TimeSpan.FromDays(1);

    /// <summary>Queues the protocols of sessions that ended in the last day and have none yet (after a crash); returns how many.</summary>
    public async Task<int> CatchUpAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var queued = 0;
        foreach (var session in await sessions.ListAsync(now - CatchUpWindow - TimeSpan.FromDays(1), now, 10_000, cancellationToken))
        {
            if (session.EndedAt is { } ended && ended >= now - CatchUpWindow)
            {
                queued += await SessionEndedAsync(session.Id, cancellationToken);
            }
        }

        return queued;
    }

    /// <summary>
    /// Queues the protocol of an ended session for each recipient that has not got it yet; returns how many were queued.
    /// A problem is logged, never thrown (the session has ended either way).
    /// </summary>
    public async Task<int> SessionEndedAsync(string sessionId, CancellationToken cancellationToken)
    {
        var queued = 0;
        try
        {
            var session = await sessions.FindAsync(sessionId, cancellationToken);
            if (session?.EndedAt is null)
            {
                return 0;
            }

            var supporter = await users.FindAsync(session.Supporter, cancellationToken);
            var recipients = new[] { supporter is { Disabled: false } ? supporter.Email : null, options.CurrentValue.AuditMailbox }
                .Where(Mailer.IsAddress).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            if (recipients.Count == 0)
            {
                return 0;
            }

            var consent = await consents.FindAsync(sessionId, cancellationToken);
            var events = await trail.QueryAsync(null, null, sessionId, newestFirst: false, MaximumEvents, cancellationToken);
            foreach (var recipient in recipients)
            {
                var key = $"session-protocol:{session.Id}:{recipient!.ToLowerInvariant()}";
                if (await outbox.ExistsAsync(key, cancellationToken))
                {
                    continue;
                }

                var draft = Compose(session, consent, events, options.CurrentValue.Language).To("session-protocol", recipient, mailer.Address.Base.AbsoluteUri);
                await mailer.QueueAsync(draft with { Key = key }, cancellationToken);
                queued++;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogProtocolNotQueued(logger, sessionId, ex);
        }

        return queued;
    }

    private MailContent Compose(SessionRecord session, ConsentRecord? consent, IReadOnlyList<AuditEvent> events, string language)
    {
        var start = Time(session.RequestedAt);
        var content = MailContent.Start(language, "ProtocolSubject", session.HostName, start);
        var duration = (session.EndedAt ?? session.RequestedAt) - session.RequestedAt;
        content.Paragraph("ProtocolWho", session.Id, session.Supporter, session.HostName, session.Via)
            .Paragraph("ProtocolWhen", start, session.EndedAt is { } ended ? Time(ended) : "-", Math.Round(duration.TotalMinutes, 1))
            .Paragraph("ProtocolRights", string.Join(", ", session.Requested), consent is { Accepted: true } ? string.Join(", ", consent.Granted) : "-")
            .Paragraph(
                consent is null ? "ProtocolNoConsent" : consent.Kind == ConsentKind.Policy ? "ProtocolConsentPolicy" : "ProtocolConsentAsked",
                consent?.TermsSha256 ?? "-");
        foreach (var grant in session.LaterGrants)
        {
            content.Paragraph("ProtocolLaterGrant", string.Join(", ", grant.Permissions), Time(grant.At));
        }

        content.Paragraph("ProtocolEnded", session.EndedBy ?? "-", session.EndReason ?? "-")
            .Paragraph("ProtocolEvents")
            .Verbatim(string.Join('\n', events.Select(Line)))
            .Link("ProtocolLink", mailer.Address.Link("/audit/session?id=" + Uri.EscapeDataString(session.Id)));
        return content;
    }

    private static string Line(AuditEvent e)
    {
        var entry = e.Entry;
        var details = entry.Details is { Count: > 0 } d ? " " + string.Join(' ', d.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")) : string.Empty;
        return $"{entry.At.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} #{e.Sequence} {entry.Actor} {entry.Action} {entry.Target}{details}";
    }

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = 6010, Level = LogLevel.Error, Message = "The protocol of session {SessionId} could not be queued for mail")]
    private static partial void LogProtocolNotQueued(ILogger logger, string sessionId, Exception exception);
}
