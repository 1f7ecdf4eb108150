using System.ComponentModel.DataAnnotations;

namespace PrivateServer.Server.Mail;

/// <summary>How the connection to the smarthost is secured.</summary>
public enum MailSecurity
{
    /// <summary>Plain SMTP (only for a smarthost on the same machine or a trusted segment).</summary>
    None,

    /// <summary>Plain connect, then STARTTLS, which must succeed.</summary>
    StartTls,

    /// <summary>TLS from the first byte (SMTPS, usually port 465).</summary>
    Tls,
}

/// <summary>Which certificates the smarthost's TLS certificate must chain to.</summary>
public enum MailTrust
{
    /// <summary>The operating system's trusted roots.</summary>
    System,

    /// <summary>The appliance's own CA (a smarthost certificate the appliance issued).</summary>
    ApplianceCa,

    /// <summary>The CA certificates in <see cref="MailOptions.CaFile"/> (PEM), e.g. the company root.</summary>
    File,
}

/// <summary>
/// The company's smarthost (section <c>Mail</c>). Nothing is preconfigured: without <see cref="Host"/>
/// mail waits in the outbox and the admin center says so.
/// </summary>
public sealed class MailOptions
{
    public const string SectionName = "Mail";

    /// <summary>The smarthost's name or address; none by default.</summary>
    public string? Host { get; set; }

    /// <summary>The smarthost's port; 0 picks 25 (None), 587 (StartTls) or 465 (Tls).</summary>
    [Range(0, 65_535)]
    public int Port { get; set; }

    public MailSecurity Security { get; set; } = MailSecurity.StartTls;

    /// <summary>The SMTP user, if the smarthost wants authentication.</summary>
    public string? User { get; set; }

    /// <summary>A file holding the SMTP password (first line); read at every connection, never logged.</summary>
    public string? PasswordFile { get; set; }

    /// <summary>The sender address of every mail, e.g. <c>PrivateServer &lt;support@example.com&gt;</c>.</summary>
    public string? From { get; set; }

    public MailTrust Trust { get; set; } = MailTrust.System;

    /// <summary>Language of mail whose reader's language is not known (session protocols, certificate warnings): de or en.</summary>
    [RegularExpression("^(de|en)$")]
    public string Language { get; set; } = "en";

    /// <summary>An address that gets a copy of every session protocol (e.g. the auditors' mailbox); none by default.</summary>
    public string? AuditMailbox { get; set; }

    /// <summary>PEM file with the CA certificates for <see cref="MailTrust.File"/>.</summary>
    public string? CaFile { get; set; }

    /// <summary>The wait after the first failed attempt; it doubles with every further failure up to <see cref="MaximumRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMinutes(1);

    public TimeSpan MaximumRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long a mail is retried before it is marked failed (default 3 days).</summary>
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromDays(3);

    /// <summary>Connect and command timeout towards the smarthost.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    public int EffectivePort => Port != 0 ? Port : Security switch
    {
        MailSecurity.Tls => 465,
        MailSecurity.StartTls => 587,
        _ => 25,
    };

    /// <summary>Why mail cannot go out with these settings, or null when it can.</summary>
    public string? Missing =>
        string.IsNullOrWhiteSpace(Host) ? "no smarthost is configured (Mail:Host)"
        : string.IsNullOrWhiteSpace(From) ? "no sender address is configured (Mail:From)"
        : Trust == MailTrust.File && string.IsNullOrWhiteSpace(CaFile) ? "Mail:Trust is File but Mail:CaFile is not set"
        : !string.IsNullOrWhiteSpace(User) && string.IsNullOrWhiteSpace(PasswordFile) ? "Mail:User is set but Mail:PasswordFile is not"
        : null;
}
