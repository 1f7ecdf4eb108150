using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Mail;

namespace PrivateServer.Server.Auth;

/// <summary>What became of a new password set through a link.</summary>
public enum PasswordLinkOutcome
{
    /// <summary>The password is set and the link used up.</summary>
    Set,

    /// <summary>The link is unknown, used, expired, replaced by a newer one, or its user is gone or disabled.</summary>
    InvalidLink,

    /// <summary>The two passwords differ; the link still works.</summary>
    Mismatch,

    /// <summary>The password breaks the policy; the link still works.</summary>
    Policy,
}

/// <summary>
/// Single-use set-password links sent by mail: invitations for new users (72 h) and password resets (1 h).
/// A reset request never tells whether the account or address exists; each step is audited. One reset mail per account
/// per 10 minutes and 10 requests per source address and hour keep anyone from flooding a mailbox.
/// </summary>
public sealed partial class PasswordLinks(
    IUserStore users,
    IPasswordLinkStore links,
    Mailer mailer,
    PasswordService passwords,
    AuditTrail audit,
    TimeProvider time,
    ILogger<PasswordLinks> logger,
    UserRevocation? revocation = null)
{
    public static readonly TimeSpan InvitationLifetime = TimeSpan.FromHours(72);
    public static readonly TimeSpan ResetLifetime = TimeSpan.FromHours(1);

    /// <summary>At most one reset mail per account in this time (a mailbox cannot be flooded).</summary>
    public static readonly TimeSpan ResetSpacing = TimeSpan.FromMinutes(10);

    /// <summary>At most this many reset requests per source address and hour; more are answered alike and do nothing.</summary>
    public const int ResetRequestsPerHour = 10;

    private readonly Dictionary<string, (DateTimeOffset Since, int Count)> _requests = new(StringComparer.Ordinal);

    /// <summary>The page a link opens; the token follows as <c>?token=</c>.</summary>
    public const string SetPasswordPath = "/password/set";

    /// <summary>Mails a new user (who must have an e-mail address) a link to set the first password; older invitation links stop working.</summary>
    public async Task<OutboxMail?> InviteAsync(User user, string? language, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.Email is null)
        {
            return null;
        }

        // The link, the mail carrying it and the event recording it: together or not at all.
        var change = new AtomicChange();
        var mail = Invitation(user, language, change)!;
        await audit.WriteAsync(change, cancellationToken);
        mailer.Queued(mail);
        return mail;
    }

    /// <summary>
    /// Adds an invitation to <paramref name="change"/>: a new link (older ones stop working once it is written), the mail
    /// carrying it and the event recording it. Returns the mail (call <see cref="Queued"/> once the change is written),
    /// or null when the user has no address.
    /// </summary>
    public OutboxMail? Invitation(User user, string? language, AtomicChange change)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(change);
        if (user.Email is null)
        {
            return null;
        }

        var (token, link) = Issue(user, PasswordLinkPurpose.Invitation);
        var content = MailContent.Start(language, "InvitationSubject");
        var draft = content
            .Paragraph("InvitationBody", user.Name, content.T("Role" + user.Role))
            .Link("LinkSetPassword", mailer.Address.Link($"{SetPasswordPath}?token={token}"))
            .Paragraph("InvitationExpiry", Utc(link.ExpiresAt))
            .To("invitation", user.Email, mailer.Address.Base.AbsoluteUri);
        var mail = mailer.Prepare(draft);
        change.PasswordLinks.Add(link);
        change.Mails.Add(mail);
        change.Audit.Add(audit.ChangeEntry("user.invited", user.Name, AuditTrail.Details(("email", user.Email), ("mail", mail.Id))));
        return mail;
    }

    /// <summary>A mail of a written change is in the outbox: wakes the sender.</summary>
    public void Queued(OutboxMail mail) => mailer.Queued(mail);

    /// <summary>
    /// Mails a reset link to the account named (by user name or e-mail address) if it exists, is enabled and has an
    /// address; otherwise does nothing. The caller always shows the same answer.
    /// </summary>
    public async Task RequestResetAsync(string nameOrEmail, string? language, string? source, CancellationToken cancellationToken)
    {
        if (!CountRequest(source ?? "-"))
        {
            LogResetThrottled(logger, source ?? "-");
            await audit.RecordAsync("anonymous", "password.reset-throttled", null, null, source, AuditTrail.Details(("limit", "source")), cancellationToken);
            return;
        }

        var asked = (nameOrEmail ?? string.Empty).Trim();
        var user = asked.Length is 0 or > Mailer.MaximumAddressLength ? null
            : asked.Contains('@', StringComparison.Ordinal)
                ? (await users.ListAsync(cancellationToken)).SingleOrDefault(u => string.Equals(u.Email, asked, StringComparison.OrdinalIgnoreCase))
                : AccountName.IsValid(asked) ? await users.FindAsync(asked, cancellationToken) : null;
        if (user is not { Disabled: false, Email: not null })
        {
            LogResetNotSent(logger, source ?? "-");
            await audit.RecordAsync("anonymous", "password.reset-refused", null, null, source, null, cancellationToken);
            return;
        }

        if (await links.NewestAsync(user.Name, PasswordLinkPurpose.Reset, cancellationToken) is { } newest && time.GetUtcNow() - newest.CreatedAt < ResetSpacing)
        {
            LogResetThrottled(logger, source ?? "-");
            await audit.RecordAsync(user.Name, "password.reset-throttled", user.Name, null, source, AuditTrail.Details(("limit", "account")), cancellationToken);
            return;
        }

        var (token, link) = Issue(user, PasswordLinkPurpose.Reset);
        var draft = MailContent.Start(language, "ResetSubject")
            .Paragraph("ResetBody", user.Name, source ?? "-")
            .Link("LinkSetPassword", mailer.Address.Link($"{SetPasswordPath}?token={token}"))
            .Paragraph("ResetExpiry")
            .To("password-reset", user.Email, mailer.Address.Base.AbsoluteUri);
        var mail = mailer.Prepare(draft);
        var change = new AtomicChange();
        change.PasswordLinks.Add(link);
        change.Mails.Add(mail);
        change.Audit.Add(audit.Entry(user.Name, "password.reset-requested", user.Name, null, source, AuditTrail.Details(("mail", mail.Id))));
        await audit.WriteAsync(change, cancellationToken);
        mailer.Queued(mail);
        LogResetSent(logger, user.Name, source ?? "-");
    }

    /// <summary>The user a live link is for, or null.</summary>
    public async Task<string?> CheckAsync(string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        var link = await links.FindAsync(SecretToken.Hash(token), cancellationToken);
        return link is not null && link.IsLive(time.GetUtcNow()) && await users.FindAsync(link.User, cancellationToken) is { Disabled: false } ? link.User : null;
    }

    /// <summary>Sets the password through a link: checked first (a typo leaves the link working), then the link is used up once.</summary>
    public async Task<PasswordLinkOutcome> SetPasswordAsync(string? token, string? password, string? repeat, string? source, CancellationToken cancellationToken)
    {
        var name = await CheckAsync(token, cancellationToken);
        if (name is null)
        {
            return PasswordLinkOutcome.InvalidLink;
        }

        if (!string.Equals(password, repeat, StringComparison.Ordinal))
        {
            return PasswordLinkOutcome.Mismatch;
        }

        if (PasswordService.PolicyViolation(password ?? string.Empty, name) is not null)
        {
            return PasswordLinkOutcome.Policy;
        }

        var link = await links.RedeemAsync(SecretToken.Hash(token!), time.GetUtcNow(), cancellationToken);
        var user = link is null ? null : await users.FindAsync(link.User, cancellationToken);
        if (link is null || user is not { Disabled: false })
        {
            return PasswordLinkOutcome.InvalidLink;
        }

        // The link is used up first (only one request ever gets it); the new password and its event go together.
        var change = new AtomicChange();
        var hash = passwords.Hash(password!);
        change.UserEdits.Add(new UserEdit(user.Name, stored => stored with { PasswordHash = hash }));
        change.Audit.Add(audit.Entry(user.Name, "user.password-set", user.Name, null, source, AuditTrail.Details(("through", link.Purpose.ToString().ToLowerInvariant()))));
        await audit.WriteAsync(change, CancellationToken.None);
        LogPasswordSet(logger, user.Name, link.Purpose);
        if (revocation is not null)
        {
            await revocation.RevokeAsync(user.Name, "the password was changed", CancellationToken.None);
        }

        return PasswordLinkOutcome.Set;
    }

    /// <summary>A new link (not stored yet) and the token its mail carries; only the token's hash is ever stored.</summary>
    private (string Token, PasswordLink Link) Issue(User user, PasswordLinkPurpose purpose)
    {
        var token = SecretToken.New();
        var now = time.GetUtcNow();
        var expires = now + (purpose == PasswordLinkPurpose.Invitation ? InvitationLifetime : ResetLifetime);
        return (token, new PasswordLink("pl-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), SecretToken.Hash(token), user.Name, purpose, now, expires, null));
    }

    /// <summary>Counts a reset request of a source address in its hour; false once the address is over the limit.</summary>
    private bool CountRequest(string source)
    {
        var now = time.GetUtcNow();
        lock (_requests)
        {
            if (_requests.Count > 10_000)
            {
                foreach (var old in _requests.Where(r => now - r.Value.Since > TimeSpan.FromHours(1)).Select(r => r.Key).ToList())
                {
                    _requests.Remove(old);
                }
            }

            var (since, count) = _requests.TryGetValue(source, out var seen) && now - seen.Since <= TimeSpan.FromHours(1) ? seen : (now, 0);
            _requests[source] = (since, count + 1);
            return count < ResetRequestsPerHour;
        }
    }

    private static string Utc(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = 4020, Level = LogLevel.Information, Message = "Password reset link mailed for user {UserName}, asked from {Source}")]
    private static partial void LogResetSent(ILogger logger, string userName, string source);

    [LoggerMessage(EventId = 4021, Level = LogLevel.Information, Message = "Password reset asked from {Source} for no enabled account with an address; nothing sent")]
    private static partial void LogResetNotSent(ILogger logger, string source);

    [LoggerMessage(EventId = 4023, Level = LogLevel.Warning, Message = "Password reset asked from {Source} too often; nothing sent")]
    private static partial void LogResetThrottled(ILogger logger, string source);

    [LoggerMessage(EventId = 4022, Level = LogLevel.Information, Message = "User {UserName} set a password through a link ({Purpose})")]
    private static partial void LogPasswordSet(ILogger logger, string userName, PasswordLinkPurpose purpose);
}
