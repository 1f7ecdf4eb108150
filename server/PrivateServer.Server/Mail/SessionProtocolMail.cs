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
/// how it ended, and every audit event of the session — with a link to the auditor's page for it. The mails are
/// written in the transaction that ends the session (<see cref="SessionEndsAsync"/>), so there is no protocol without
/// the end it reports and no end without its protocol. Each protocol mail carries a key (session and recipient):
/// <see cref="CatchUpAsync"/> at start queues the protocols of sessions that ended before this was so, never twice.
/// </summary>
public sealed partial class SessionProtocolMail(
    ISessionLog sessions, IConsentStore consents, IUserStore users, IAuditLog trail, IOutbox outbox, Mailer mailer, IOptionsMonitor<MailOptions> options,
    TimeProvider time, ILogger<SessionProtocolMail> logger)
{
    private const int MaximumEvents = 500;
    private static readonly TimeSpan CatchUpWindow = TimeSpan.FromDays(1);

    /// <summary>Queues the protocols of sessions that ended in the last day and have none yet; returns how many.</summary>
    public async Task<int> CatchUpAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var queued = 0;
        foreach (var session in await sessions.ListAsync(now - CatchUpWindow - TimeSpan.FromDays(1), now, 10_000, cancellationToken))
        {
            // A refused session never ran: the supporter was told at once, and nothing happened to report.
            if (session is not { EndedAt: { } ended, EndedBy: not Refused } || ended < now - CatchUpWindow)
            {
                continue;
            }

            // One session's problem is logged and leaves the others (and the mail sender) going.
            try
            {
                if (await DraftAsync(session, cancellationToken) is { } draft)
                {
                    foreach (var mail in draft.Compose([]))
                    {
                        await outbox.AddAsync(mail, cancellationToken);
                        mailer.Queued(mail);
                        queued++;
                    }
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogProtocolNotQueued(logger, session.Id, ex);
            }
        }

        return queued;
    }

    /// <summary>
    /// The protocol mails of a session that <paramref name="end"/> ends, to be composed when the change that ends it is
    /// written (<see cref="AtomicChange.MailsFromEvents"/>: the protocol quotes the ending event); null when nobody gets
    /// one. A problem is logged, never thrown: the session ends either way.
    /// </summary>
    public async Task<ProtocolDraft?> SessionEndsAsync(SessionEnd end, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(end);
        try
        {
            return await sessions.FindAsync(end.SessionId, cancellationToken) is { EndedAt: null } session
                ? await DraftAsync(session with { EndedAt = end.At, EndedBy = end.By, EndReason = end.Reason }, cancellationToken)
                : null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogProtocolNotQueued(logger, end.SessionId, ex);
            return null;
        }
    }

    private async Task<ProtocolDraft?> DraftAsync(SessionRecord session, CancellationToken cancellationToken)
    {
        var supporter = await users.FindAsync(session.Supporter, cancellationToken);
        var recipients = new List<(string Address, string Key)>();
        foreach (var address in new[] { supporter is { Disabled: false } ? supporter.Email : null, options.CurrentValue.AuditMailbox }
            .Where(Mailer.IsAddress).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var key = $"session-protocol:{session.Id}:{address!.ToLowerInvariant()}";
            if (!await outbox.ExistsAsync(key, cancellationToken))
            {
                recipients.Add((address, key));
            }
        }

        if (recipients.Count == 0)
        {
            return null;
        }

        var consent = await consents.FindAsync(session.Id, cancellationToken);
        var earlier = await trail.QueryAsync(null, null, session.Id, newestFirst: false, MaximumEvents, cancellationToken);
        var language = options.CurrentValue.Language;
        return new ProtocolDraft(
            appended =>
            {
                // Composed inside the transaction that ends the session: a problem here must not undo the end.
                try
                {
                    var events = earlier.Concat(appended.Where(e => e.Entry.SessionId == session.Id)).ToList();
                    return recipients
                        .Select(r => mailer.Prepare(Compose(session, consent, events, language).To("session-protocol", r.Address, mailer.Address.Base.AbsoluteUri) with { Key = r.Key }))
                        .ToList();
                }
                catch (Exception ex)
                {
                    LogProtocolNotQueued(logger, session.Id, ex);
                    return [];
                }
            },
            mailer.Queued);
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

    private const string Refused = "refused";

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = 6010, Level = LogLevel.Error, Message = "The protocol of session {SessionId} could not be queued for mail")]
    private static partial void LogProtocolNotQueued(ILogger logger, string sessionId, Exception exception);
}

/// <summary>
/// The protocol mails of a session that ends: <see cref="Compose"/> makes them from the events the ending change
/// appends (inside its transaction); <see cref="Queued"/> reports them once the change is stored.
/// </summary>
public sealed class ProtocolDraft(Func<IReadOnlyList<AuditEvent>, IReadOnlyList<OutboxMail>> compose, Action<OutboxMail> queued)
{
    private IReadOnlyList<OutboxMail> _composed = [];

    /// <summary>The mails, quoting <paramref name="appended"/> (the events written with the session's end).</summary>
    public IReadOnlyList<OutboxMail> Compose(IReadOnlyList<AuditEvent> appended) => _composed = compose(appended);

    /// <summary>The change with the mails was stored: log them and wake the sender.</summary>
    public void Queued()
    {
        foreach (var mail in _composed)
        {
            queued(mail);
        }
    }
}
