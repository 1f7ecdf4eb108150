using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Mail;

/// <summary>
/// Delivers the outbox to the smarthost: due mail oldest first over one connection, each marked
/// <see cref="MailState.Sending"/> before it is handed over and <see cref="MailState.Sent"/> after the
/// smarthost accepted it. A failed attempt waits <see cref="MailOptions.RetryDelay"/>, doubling up to
/// <see cref="MailOptions.MaximumRetryDelay"/>, for <see cref="MailOptions.GiveUpAfter"/>; a 5xx refusal of
/// a mail fails it at once. Mail left in <see cref="MailState.Sending"/> by a crash is sent again with the
/// same Message-ID (the at-least-once corner: the smarthost may have accepted it just before the crash).
/// </summary>
internal sealed partial class MailSender(
    IOutbox outbox, MailWakeup wakeup, MailSettings mailSettings, SessionProtocolMail protocols, IOptionsMonitor<MailOptions> options, DataFolder folder,
    TimeProvider time, ILogger<MailSender> logger)
    : BackgroundService
{
    private const int Batch = 50;
    private static readonly TimeSpan LongestNap = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        string? reported = null;
        try
        {
            // Protocols of sessions that ended just before a crash, before their mail was queued.
            await protocols.CatchUpAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                var settings = await mailSettings.CurrentAsync(stoppingToken);
                var blocked = settings.Missing;
                if (blocked is null)
                {
                    await DeliverDueAsync(settings, stoppingToken);
                }

                var next = await outbox.NextDueAsync(stoppingToken);
                if (blocked is not null && blocked != reported && next is not null)
                {
                    LogBlocked(logger, blocked);
                }

                reported = blocked;
                // While mail cannot go out, due mail stays due: look again when woken (new mail, new settings) or after the longest nap.
                var nap = blocked is null && next is { } due ? due - time.GetUtcNow() : LongestNap;
                nap = nap < TimeSpan.FromMilliseconds(50) ? TimeSpan.FromMilliseconds(50) : nap > LongestNap ? LongestNap : nap;
                await wakeup.WaitAsync(nap, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping; queued mail waits in the outbox for the next start.
        }
    }

    private async Task DeliverDueAsync(EffectiveMailSettings settings, CancellationToken stoppingToken)
    {
        var due = await outbox.DueAsync(time.GetUtcNow(), Batch, stoppingToken);
        if (due.Count == 0)
        {
            return;
        }

        SmtpConnection connection;
        try
        {
            connection = await SmtpConnection.OpenAsync(settings, folder, stoppingToken);
        }
        catch (MailDeliveryException ex)
        {
            LogConnectFailed(logger, ex.Message, due.Count);
            foreach (var mail in due)
            {
                await FailedAttemptAsync(mail with { Attempts = mail.Attempts + 1, LastAttemptAt = time.GetUtcNow() }, ex, stoppingToken);
            }

            return;
        }

        using (connection)
        {
            foreach (var mail in due)
            {
                var sending = mail with { State = MailState.Sending, Attempts = mail.Attempts + 1, LastAttemptAt = time.GetUtcNow() };
                if (!await outbox.UpdateAsync(sending, stoppingToken))
                {
                    continue;
                }

                try
                {
                    // A mail being handed over is finished even while the appliance stops (bounded by Mail:Timeout):
                    // cut off half-way it would be neither sent nor safely unsent.
                    await connection.SendAsync(Message(sending, settings.Options), CancellationToken.None);
                }
                catch (MailDeliveryException ex)
                {
                    await FailedAttemptAsync(sending, ex, stoppingToken);
                    if (!ex.Permanent)
                    {
                        break;
                    }

                    continue;
                }

                await outbox.UpdateAsync(sending with { State = MailState.Sent, SentAt = time.GetUtcNow(), LastError = null }, stoppingToken);
                LogSent(logger, sending.Id, sending.Kind, sending.To, sending.Attempts);
            }

            await connection.CloseAsync(stoppingToken);
        }
    }

    private async Task FailedAttemptAsync(OutboxMail mail, MailDeliveryException problem, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var now = time.GetUtcNow();
        var wait = settings.RetryDelay * Math.Pow(2, Math.Min(Math.Max(mail.Attempts - 1, 0), 30));
        wait = wait > settings.MaximumRetryDelay ? settings.MaximumRetryDelay : wait;
        var givenUp = problem.Permanent || now - mail.RetryFrom >= settings.GiveUpAfter;
        await outbox.UpdateAsync(
            mail with { State = givenUp ? MailState.Failed : MailState.Queued, NextAttemptAt = now + wait, LastError = problem.Message },
            cancellationToken);
        if (givenUp)
        {
            LogGivenUp(logger, mail.Id, mail.To, mail.Attempts, problem.Message);
        }
        else
        {
            LogRetryLater(logger, mail.Id, mail.To, now + wait, problem.Message);
        }
    }

    private static MimeMessage Message(OutboxMail mail, MailOptions settings)
    {
        var message = new MimeMessage
        {
            MessageId = mail.MessageId,
            Date = mail.CreatedAt,
            Subject = mail.Subject,
        };
        message.From.Add(MailboxAddress.Parse(settings.From!));
        message.To.Add(new MailboxAddress(string.Empty, mail.To));
        message.Headers.Add("Auto-Submitted", "auto-generated");
        message.Body = new BodyBuilder { TextBody = mail.Text, HtmlBody = mail.Html }.ToMessageBody();
        message.Body.Headers.Add(HeaderId.ContentLanguage, mail.Language);
        return message;
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Mail {Id} ({Kind}) to {To} handed to the smarthost (attempt {Attempt})")]
    private static partial void LogSent(ILogger logger, string id, string kind, string to, int attempt);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Mail waits in the outbox: {Reason}")]
    private static partial void LogBlocked(ILogger logger, string reason);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Mail delivery failed, {Count} mails wait: {Problem}")]
    private static partial void LogConnectFailed(ILogger logger, string problem, int count);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Warning, Message = "Mail {Id} to {To} not delivered, next attempt at {Next:u}: {Problem}")]
    private static partial void LogRetryLater(ILogger logger, string id, string to, DateTimeOffset next, string problem);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Error, Message = "Mail {Id} to {To} given up after {Attempts} attempts: {Problem}")]
    private static partial void LogGivenUp(ILogger logger, string id, string to, int attempts, string problem);
}
