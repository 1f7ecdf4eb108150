using PrivateServer.Server.Audit;

namespace PrivateServer.Server.Broker;

/// <summary>How every end of a session is written (by the broker, and at start for sessions a stop left running).</summary>
internal static class SessionEnding
{
    /// <summary>The end, its <c>session.ended</c> event and the protocol mails quoting that event (if any): one transaction.</summary>
    public static async Task WriteAsync(AuditTrail audit, SessionEnd end, AuditEntry ended, Mail.ProtocolDraft? protocol, CancellationToken cancellationToken)
    {
        var change = new AtomicChange();
        change.SessionEnds.Add(end);
        change.Audit.Add(ended);
        change.MailsFromEvents = protocol is null ? null : protocol.Compose;
        await audit.WriteAsync(change, cancellationToken);
        protocol?.Queued();
    }
}
