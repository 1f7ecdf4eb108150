namespace PrivateServer.Server.Mail;

/// <summary>Where a mail is on its way out.</summary>
public enum MailState
{
    /// <summary>Waiting for its next attempt.</summary>
    Queued,

    /// <summary>Handed to the smarthost right now (or when the appliance stopped without hearing back).</summary>
    Sending,

    /// <summary>The smarthost accepted it.</summary>
    Sent,

    /// <summary>Given up: refused for good by the smarthost, or still undeliverable after <see cref="MailOptions.GiveUpAfter"/>.</summary>
    Failed,
}

/// <summary>One mail in the outbox, stored complete (rendered text and HTML) before anything is sent.</summary>
/// <param name="Id">Short id for <c>mail retry</c> (<c>ml-</c> + 12 hex digits).</param>
/// <param name="MessageId">The RFC 5322 Message-ID, fixed at queueing: a resend after a crash carries the same one.</param>
/// <param name="Kind">What the mail is (test, invitation, password-reset, ...).</param>
/// <param name="To">One plain address.</param>
/// <param name="Language">de or en: the language the mail was written in.</param>
/// <param name="Subject">The subject line.</param>
/// <param name="Text">The plain text part.</param>
/// <param name="Html">The HTML part (same content, no images or outside references).</param>
/// <param name="CreatedAt">When it was queued.</param>
/// <param name="RetryFrom">Start of the retry window (creation, or the admin's last <c>mail retry</c>).</param>
/// <param name="State">Where it is on its way out.</param>
/// <param name="Attempts">How often it was handed to the smarthost or tried to be.</param>
/// <param name="NextAttemptAt">When the sender tries it next (while queued).</param>
/// <param name="LastAttemptAt">The last attempt's start.</param>
/// <param name="LastError">Why the last attempt failed, for the admin.</param>
/// <param name="SentAt">When the smarthost accepted it.</param>
/// <param name="Key">What the mail is about, for mail that must go out once only (e.g. one expiry warning per certificate and threshold).</param>
public sealed record OutboxMail(
    string Id,
    string MessageId,
    string Kind,
    string To,
    string Language,
    string Subject,
    string Text,
    string Html,
    DateTimeOffset CreatedAt,
    DateTimeOffset RetryFrom,
    MailState State,
    int Attempts,
    DateTimeOffset NextAttemptAt,
    DateTimeOffset? LastAttemptAt,
    string? LastError,
    DateTimeOffset? SentAt,
    string? Key = null);
