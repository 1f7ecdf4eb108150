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
/// how it ended, and every audit event of the session — with a link to the auditor's page for it.
/// </summary>
public sealed partial class SessionProtocolMail(
    ISessionLog sessions, IConsentStore consents, IUserStore users, IAuditLog trail, Mailer mailer, IOptionsMonitor<MailOptions> options,
    ILogger<SessionProtocolMail> logger)
{
    private const int MaximumEvents = 500;

    /// <summary>Queues the protocol of an ended session; a problem is logged, never thrown (the session has ended either way).</summary>
    public async Task SessionEndedAsync(string sessionId, CancellationToken cancellationToken)
    {
        try
        {
            var session = await sessions.FindAsync(sessionId, cancellationToken);
            if (session is null)
            {
                return;
            }

            var supporter = await users.FindAsync(session.Supporter, cancellationToken);
            var recipients = new[] { supporter is { Disabled: false } ? supporter.Email : null, options.CurrentValue.AuditMailbox }
                .Where(Mailer.IsAddress).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            if (recipients.Count == 0)
            {
                return;
            }

            var consent = await consents.FindAsync(sessionId, cancellationToken);
            var events = await trail.QueryAsync(null, null, sessionId, newestFirst: false, MaximumEvents, cancellationToken);
            foreach (var recipient in recipients)
            {
                await mailer.QueueAsync(Compose(session, consent, events, options.CurrentValue.Language).To("session-protocol", recipient!, mailer.Address.Base.AbsoluteUri), cancellationToken);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogProtocolNotQueued(logger, sessionId, ex);
        }
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
