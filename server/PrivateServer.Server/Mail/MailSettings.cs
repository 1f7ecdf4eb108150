using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;
using PrivateServer.Server.Admin;
using PrivateServer.Server.Audit;

namespace PrivateServer.Server.Mail;

/// <summary>The smarthost as the admin center set it (kept in the encrypted database); the password and CA certificates are kept as given.</summary>
public sealed record StoredMailSettings(
    string Host, int Port, MailSecurity Security, string? User, string? Password, string From, MailTrust Trust, string? CaPem, DateTimeOffset UpdatedAt);

/// <summary>Where the admin center's smarthost settings are kept; null when the configuration file's apply.</summary>
public interface IMailSettingsStore
{
    Task<StoredMailSettings?> GetAsync(CancellationToken cancellationToken);

    Task SaveAsync(StoredMailSettings? settings, CancellationToken cancellationToken);
}

/// <summary>The smarthost settings in force and where they come from, with the secrets the connection needs.</summary>
/// <param name="Options">Host, port, security, user, sender, trust (and the retry settings, always from the configuration).</param>
/// <param name="Password">The SMTP password set in the admin center; null means read <see cref="MailOptions.PasswordFile"/>.</param>
/// <param name="CaPem">CA certificates uploaded in the admin center (for <see cref="MailTrust.File"/>); null means <see cref="MailOptions.CaFile"/>.</param>
/// <param name="FromAdminCenter">Whether the admin center's settings replace the configuration file's.</param>
public sealed record EffectiveMailSettings(MailOptions Options, string? Password, string? CaPem, bool FromAdminCenter)
{
    /// <summary>Why mail cannot go out with these settings, or null when it can.</summary>
    public string? Missing => FromAdminCenter ? null : Options.Missing;
}

/// <summary>A change from the admin center; an empty password keeps the stored one.</summary>
public sealed record MailSettingsChange(
    string? Host, int Port, string? Security, string? User, string? Password, string? From, string? Trust, string? CaPem);

/// <summary>
/// The smarthost settings: the configuration file's <c>Mail:*</c>, or — once an admin saved them in the admin
/// center — those, as a whole, until the admin goes back to the file's. Changes apply to the next attempt.
/// </summary>
public sealed partial class MailSettings(
    IMailSettingsStore store, IOptionsMonitor<MailOptions> configured, MailWakeup wakeup, AuditTrail audit, TimeProvider time, ILogger<MailSettings> logger)
    : IDisposable
{
    public const int MaximumPemLength = 64 * 1024;

    private readonly SemaphoreSlim _changing = new(1, 1);
    private StoredMailSettings? _stored;
    private bool _loaded;

    public async Task<EffectiveMailSettings> CurrentAsync(CancellationToken cancellationToken)
    {
        if (!Volatile.Read(ref _loaded))
        {
            _stored = await store.GetAsync(cancellationToken);
            Volatile.Write(ref _loaded, true);
        }

        var file = configured.CurrentValue;
        if (Volatile.Read(ref _stored) is not { } stored)
        {
            return new EffectiveMailSettings(file, null, null, FromAdminCenter: false);
        }

        var options = new MailOptions
        {
            Host = stored.Host,
            Port = stored.Port,
            Security = stored.Security,
            User = stored.User,
            From = stored.From,
            Trust = stored.Trust,
            CaFile = null,
            Language = file.Language,
            AuditMailbox = file.AuditMailbox,
            RetryDelay = file.RetryDelay,
            MaximumRetryDelay = file.MaximumRetryDelay,
            GiveUpAfter = file.GiveUpAfter,
            Timeout = file.Timeout,
        };
        return new EffectiveMailSettings(options, stored.Password, stored.CaPem, FromAdminCenter: true);
    }

    /// <summary>Checks and stores the admin center's settings (all or nothing); audited without the password.</summary>
    public async Task<AdminOutcome<EffectiveMailSettings>> UpdateAsync(MailSettingsChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        await _changing.WaitAsync(cancellationToken);
        try
        {
            var previous = (await CurrentAsync(cancellationToken)).FromAdminCenter ? _stored : null;
            var host = change.Host?.Trim() ?? string.Empty;
            var from = change.From?.Trim() ?? string.Empty;
            var user = string.IsNullOrWhiteSpace(change.User) ? null : change.User.Trim();
            var password = string.IsNullOrEmpty(change.Password) ? previous?.Password : change.Password;
            var pem = string.IsNullOrWhiteSpace(change.CaPem) ? (change.Trust == nameof(MailTrust.File) ? previous?.CaPem : null) : change.CaPem.Trim();
            var problem =
                host.Length is 0 or > 253 || host.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) ? "the smarthost must be a host name or address"
                : change.Port is < 0 or > 65_535 ? "the port must be between 0 and 65535"
                : !Enum.TryParse<MailSecurity>(change.Security, ignoreCase: true, out var security) || !Enum.IsDefined(security) ? "use None, StartTls or Tls"
                : !Enum.TryParse<MailTrust>(change.Trust, ignoreCase: true, out var trust) || !Enum.IsDefined(trust) ? "use System, ApplianceCa or File"
                : !MailboxAddress.TryParse(from, out var sender) || sender.Address.Length == 0 || from.Any(char.IsControl) ? $"'{from}' is not a sender address"
                : user is not null && (user.Length > 254 || user.Any(char.IsControl)) ? "the SMTP user name is not valid"
                : user is not null && string.IsNullOrEmpty(password) ? "give the SMTP password for the user"
                : password is not null && (password.Length > 1024 || password.Any(c => c is '\r' or '\n')) ? "the SMTP password is not valid"
                : trust == MailTrust.File && CountCertificates(pem) == 0 ? "with trust File, paste or upload the CA certificates (PEM)"
                : null;
            if (problem is not null)
            {
                return AdminOutcome.Fail<EffectiveMailSettings>(AdminFailureKind.Invalid, problem);
            }

            var stored = new StoredMailSettings(
                host, change.Port, Enum.Parse<MailSecurity>(change.Security!, true), user, user is null ? null : password, from, Enum.Parse<MailTrust>(change.Trust!, true),
                Enum.Parse<MailTrust>(change.Trust!, true) == MailTrust.File ? pem : null, time.GetUtcNow());
            var atomic = new AtomicChange { MailSettings = new MailPageSettings(stored) };
            atomic.Audit.Add(audit.ChangeEntry(
                "settings.mail-changed", stored.Host,
                AuditTrail.Details(
                    ("port", stored.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("security", stored.Security.ToString()), ("user", stored.User),
                    ("password", user is null ? null : string.IsNullOrEmpty(change.Password) ? "kept" : "changed"), ("from", stored.From),
                    ("trust", stored.Trust.ToString()), ("ca-sha256", stored.CaPem is null ? null : Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(stored.CaPem)))))));
            await audit.WriteAsync(atomic, cancellationToken);
            Volatile.Write(ref _stored, stored);
            LogChanged(logger, stored.Host, stored.Port, stored.Security, stored.Trust);
            wakeup.Wake();
            return AdminOutcome.Success(await CurrentAsync(cancellationToken));
        }
        finally
        {
            _changing.Release();
        }
    }

    /// <summary>Goes back to the configuration file's <c>Mail:*</c> settings; audited.</summary>
    public async Task ResetAsync(CancellationToken cancellationToken)
    {
        await _changing.WaitAsync(cancellationToken);
        try
        {
            var atomic = new AtomicChange { MailSettings = new MailPageSettings(null) };
            atomic.Audit.Add(audit.ChangeEntry("settings.mail-reset", null, null));
            await audit.WriteAsync(atomic, cancellationToken);
            Volatile.Write(ref _stored, null);
            Volatile.Write(ref _loaded, true);
            wakeup.Wake();
        }
        finally
        {
            _changing.Release();
        }
    }

    public void Dispose() => _changing.Dispose();

    /// <summary>How many certificates a PEM text holds (0 when it is not PEM or too long).</summary>
    public static int CountCertificates(string? pem)
    {
        if (string.IsNullOrWhiteSpace(pem) || pem.Length > MaximumPemLength)
        {
            return 0;
        }

        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(pem);
            return certificates.Count;
        }
        catch (CryptographicException)
        {
            return 0;
        }
        finally
        {
            foreach (var certificate in certificates)
            {
                certificate.Dispose();
            }
        }
    }

    [LoggerMessage(EventId = 6030, Level = LogLevel.Information, Message = "Smarthost set in the admin center: {Host}:{Port} ({Security}, trust {Trust})")]
    private static partial void LogChanged(ILogger logger, string host, int port, MailSecurity security, MailTrust trust);
}
