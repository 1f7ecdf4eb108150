namespace PrivateServer.Server.Mail;

/// <summary>The durable outbox: every mail is stored here before the sender sees it.</summary>
public interface IOutbox
{
    Task AddAsync(OutboxMail mail, CancellationToken cancellationToken);

    Task<OutboxMail?> FindAsync(string id, CancellationToken cancellationToken);

    /// <summary>Whether a mail with this <see cref="OutboxMail.Key"/> was ever queued.</summary>
    Task<bool> ExistsAsync(string key, CancellationToken cancellationToken);

    /// <summary>Newest first; sent mail only when <paramref name="includeSent"/>.</summary>
    Task<IReadOnlyList<OutboxMail>> ListAsync(bool includeSent, int limit, CancellationToken cancellationToken);

    /// <summary>Mail to attempt now: queued and due, or left in <see cref="MailState.Sending"/> by a stop; oldest first.</summary>
    Task<IReadOnlyList<OutboxMail>> DueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    /// <summary>When the next queued mail falls due, if any waits.</summary>
    Task<DateTimeOffset?> NextDueAsync(CancellationToken cancellationToken);

    /// <summary>Replaces the stored mail (same id); false when it is no longer there.</summary>
    Task<bool> UpdateAsync(OutboxMail mail, CancellationToken cancellationToken);
}
