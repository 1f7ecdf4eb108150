using LiteDB;
using PrivateServer.Server.Mail;

namespace PrivateServer.Server.Storage;

/// <summary>The mail outbox in <c>outbox</c> (by mail id, indexed by state and due time).</summary>
internal sealed class LiteDbOutbox(ApplianceDatabase database) : IOutbox
{
    private ILiteCollection<MailDocument> Mails => Open(database);

    public Task AddAsync(OutboxMail mail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mail);
        cancellationToken.ThrowIfCancellationRequested();
        Write(database, mail);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Puts a mail in the outbox (inside the caller's transaction, if any); a second mail with the same id fails, one
    /// with the <see cref="OutboxMail.Key"/> of a mail in the outbox is left out (returns false).
    /// </summary>
    internal static bool Write(ApplianceDatabase database, OutboxMail mail)
    {
        var mails = Open(database);
        if (mail.Key is { } key && mails.Exists(m => m.Key == key))
        {
            return false;
        }

        mails.Insert(MailDocument.From(mail));
        return true;
    }

    private static ILiteCollection<MailDocument> Open(ApplianceDatabase database)
    {
        var mails = database.Lite.GetCollection<MailDocument>("outbox");
        mails.EnsureIndex(m => m.State);
        mails.EnsureIndex(m => m.NextAttemptAt);
        mails.EnsureIndex(m => m.Key);
        return mails;
    }

    public Task<OutboxMail?> FindAsync(string id, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Mails.FindById(id)?.ToMail());
    }

    public Task<bool> ExistsAsync(string key, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Mails.Exists(m => m.Key == key));
    }

    public Task<IReadOnlyList<OutboxMail>> ListAsync(bool includeSent, int limit, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var sent = nameof(MailState.Sent);
        var query = Mails.Query();
        if (!includeSent)
        {
            query = query.Where(m => m.State != sent);
        }

        IReadOnlyList<OutboxMail> mails = query.OrderByDescending(m => m.CreatedAt).Limit(limit).ToList().Select(m => m.ToMail()).ToList();
        return Task.FromResult(mails);
    }

    public Task<IReadOnlyList<OutboxMail>> DueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var queued = nameof(MailState.Queued);
        var sending = nameof(MailState.Sending);
        var until = now.UtcDateTime;
        IReadOnlyList<OutboxMail> due = Mails.Query()
            .Where(m => m.State == sending || (m.State == queued && m.NextAttemptAt <= until))
            .OrderBy(m => m.NextAttemptAt)
            .Limit(limit)
            .ToList()
            .Select(m => m.ToMail())
            .ToList();
        return Task.FromResult(due);
    }

    public Task<DateTimeOffset?> NextDueAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var queued = nameof(MailState.Queued);
        var next = Mails.Query().Where(m => m.State == queued).OrderBy(m => m.NextAttemptAt).Limit(1).ToList().FirstOrDefault();
        return Task.FromResult<DateTimeOffset?>(next is null ? null : StorageMapper.Utc(next.NextAttemptAt));
    }

    public Task<bool> UpdateAsync(OutboxMail mail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mail);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Mails.Update(MailDocument.From(mail)));
    }

    internal sealed class MailDocument
    {
        [BsonId]
        public string Id { get; set; } = string.Empty;

        public string MessageId { get; set; } = string.Empty;

        public string Kind { get; set; } = string.Empty;

        public string To { get; set; } = string.Empty;

        public string Language { get; set; } = string.Empty;

        public string Subject { get; set; } = string.Empty;

        public string Text { get; set; } = string.Empty;

        public string Html { get; set; } = string.Empty;

        public DateTime CreatedAt { get; set; }

        public DateTime RetryFrom { get; set; }

        public string State { get; set; } = string.Empty;

        public int Attempts { get; set; }

        public DateTime NextAttemptAt { get; set; }

        public DateTime? LastAttemptAt { get; set; }

        public string? LastError { get; set; }

        public DateTime? SentAt { get; set; }

        public string? Key { get; set; }

        public static MailDocument From(OutboxMail mail) => new()
        {
            Id = mail.Id,
            MessageId = mail.MessageId,
            Kind = mail.Kind,
            To = mail.To,
            Language = mail.Language,
            Subject = mail.Subject,
            Text = mail.Text,
            Html = mail.Html,
            CreatedAt = mail.CreatedAt.UtcDateTime,
            RetryFrom = mail.RetryFrom.UtcDateTime,
            State = mail.State.ToString(),
            Attempts = mail.Attempts,
            NextAttemptAt = mail.NextAttemptAt.UtcDateTime,
            LastAttemptAt = mail.LastAttemptAt?.UtcDateTime,
            LastError = mail.LastError,
            SentAt = mail.SentAt?.UtcDateTime,
            Key = mail.Key,
        };

        public OutboxMail ToMail() => new(
            Id, MessageId, Kind, To, Language, Subject, Text, Html, StorageMapper.Utc(CreatedAt), StorageMapper.Utc(RetryFrom),
            Enum.Parse<MailState>(State), Attempts, StorageMapper.Utc(NextAttemptAt),
            LastAttemptAt is { } attempted ? StorageMapper.Utc(attempted) : null, LastError, SentAt is { } sent ? StorageMapper.Utc(sent) : null, Key);
    }
}
