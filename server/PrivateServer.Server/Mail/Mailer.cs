using System.Net.Mail;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using PrivateServer.Server.Admin;
using PrivateServer.Server.Audit;

namespace PrivateServer.Server.Mail;

/// <summary>
/// Puts mail into the outbox (complete, with its Message-ID) and wakes the sender; lists the outbox and
/// sends a mail again on the admin's word. Nothing here talks to the smarthost.
/// </summary>
public sealed partial class Mailer(
    IOutbox outbox, MailWakeup wakeup, PublicAddress address, MailSettings settings, AuditTrail audit, TimeProvider time, ILogger<Mailer> logger)
{
    public const int MaximumAddressLength = 254;

    /// <summary>The address that mail links point to.</summary>
    public PublicAddress Address => address;

    /// <summary>Why queued mail cannot go out now, or null.</summary>
    public async Task<string?> BlockedAsync(CancellationToken cancellationToken) => (await settings.CurrentAsync(cancellationToken)).Missing;

    /// <summary>Stores the mail in the outbox; from here on it is not lost. Wakes the sender.</summary>
    public async Task<OutboxMail> QueueAsync(MailDraft draft, CancellationToken cancellationToken)
    {
        var mail = Prepare(draft);
        await outbox.AddAsync(mail, cancellationToken);
        Queued(mail);
        return mail;
    }

    /// <summary>The outbox entry of a draft, not stored yet: for an <see cref="Audit.AtomicChange"/> that queues it with its cause; then call <see cref="Queued"/>.</summary>
    public OutboxMail Prepare(MailDraft draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        if (!IsAddress(draft.To))
        {
            throw new ArgumentException($"'{draft.To}' is not a mail address", nameof(draft));
        }

        var now = time.GetUtcNow();
        var id = "ml-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        return new OutboxMail(
            id, $"{id}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}@{address.Host}", draft.Kind, draft.To, draft.Language,
            draft.Subject, draft.Text, draft.Html, now, now, MailState.Queued, 0, now, null, null, null, draft.Key);
    }

    /// <summary>A prepared mail was stored: logs it and wakes the sender.</summary>
    public void Queued(OutboxMail mail)
    {
        ArgumentNullException.ThrowIfNull(mail);
        LogQueued(logger, mail.Id, mail.Kind, mail.To);
        wakeup.Wake();
    }

    public Task<IReadOnlyList<OutboxMail>> ListAsync(bool includeSent, CancellationToken cancellationToken) =>
        outbox.ListAsync(includeSent, 500, cancellationToken);

    /// <summary>Queues a queued or failed mail for an attempt now, with a fresh retry window; audited.</summary>
    public async Task<AdminOutcome<OutboxMail>> RetryAsync(string id, CancellationToken cancellationToken)
    {
        var mail = await outbox.FindAsync(id, cancellationToken);
        if (mail is null)
        {
            return AdminOutcome.Fail<OutboxMail>(AdminFailureKind.NotFound, $"no mail '{id}' in the outbox");
        }

        if (mail.State is MailState.Sent or MailState.Sending)
        {
            return AdminOutcome.Fail<OutboxMail>(AdminFailureKind.Conflict, $"mail {id} is {(mail.State == MailState.Sent ? "already sent" : "being sent right now")}");
        }

        var now = time.GetUtcNow();
        var again = mail with { State = MailState.Queued, NextAttemptAt = now, RetryFrom = now };
        if (!await outbox.UpdateAsync(again, cancellationToken))
        {
            return AdminOutcome.Fail<OutboxMail>(AdminFailureKind.NotFound, $"no mail '{id}' in the outbox");
        }

        await audit.RecordChangeAsync("mail.retry", id, AuditTrail.Details(("to", mail.To), ("kind", mail.Kind)), cancellationToken);
        wakeup.Wake();
        return AdminOutcome.Success(again);
    }

    /// <summary>Queues a test mail (for <c>mail test</c> and the admin center); audited.</summary>
    public async Task<AdminOutcome<OutboxMail>> QueueTestAsync(string to, string? language, CancellationToken cancellationToken)
    {
        to = to?.Trim() ?? string.Empty;
        if (!IsAddress(to))
        {
            return AdminOutcome.Fail<OutboxMail>(AdminFailureKind.Invalid, $"'{to}' is not a mail address");
        }

        var smarthost = (await settings.CurrentAsync(cancellationToken)).Options;
        var content = MailContent.Start(language, "TestSubject")
            .Paragraph("TestBody", address.Base.AbsoluteUri, smarthost.Host ?? "-", smarthost.EffectivePort, smarthost.Security);
        var mail = Prepare(content.To("test", to, address.Base.AbsoluteUri));
        var change = new AtomicChange();
        change.Mails.Add(mail);
        change.Audit.Add(audit.ChangeEntry("mail.test-queued", mail.Id, AuditTrail.Details(("to", to))));
        await audit.WriteAsync(change, cancellationToken);
        Queued(mail);
        return AdminOutcome.Success(mail);
    }

    /// <summary>One plain address (no display name, no list), as the outbox keeps it.</summary>
    public static bool IsAddress(string? text) =>
        !string.IsNullOrWhiteSpace(text) && text.Length <= MaximumAddressLength && !text.Any(char.IsControl)
        && MailAddress.TryCreate(text, out var parsed) && parsed.Address == text && string.IsNullOrEmpty(parsed.DisplayName);

    [LoggerMessage(EventId = 6000, Level = LogLevel.Information, Message = "Mail {Id} ({Kind}) to {To} queued")]
    private static partial void LogQueued(ILogger logger, string id, string kind, string to);
}

/// <summary>Wakes the sender when mail was queued (a missed wake is caught by its next look at the outbox).</summary>
public sealed class MailWakeup : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Wake()
    {
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already awake.
        }
    }

    /// <summary>Waits for a wake or the timeout; true when woken.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);

    public void Dispose() => _signal.Dispose();
}
