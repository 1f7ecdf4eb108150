using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using PrivateServer.Server.Storage;
using PrivateServer.Server.Tls;

namespace PrivateServer.Server.Mail;

/// <summary>
/// One connection to the configured smarthost (MailKit): TLS as configured, the certificate checked
/// against the configured trust without downloading anything (no revocation or AIA fetches: the
/// appliance contacts no one but the smarthost), optional authentication.
/// </summary>
internal sealed class SmtpConnection : IDisposable
{
    private readonly SmtpClient _client;
    private readonly MailOptions _options;
    private readonly string? _password;
    private readonly X509Certificate2Collection? _roots;

    private SmtpConnection(MailOptions options, string? password, X509Certificate2Collection? roots)
    {
        _options = options;
        _password = password;
        _roots = roots;
        _client = new SmtpClient
        {
            Timeout = (int)options.Timeout.TotalMilliseconds,
            CheckCertificateRevocation = false,
            ServerCertificateValidationCallback = Validate,
        };
    }

    /// <summary>Connects (and authenticates); a failure comes as <see cref="MailDeliveryException"/> with a line for the admin.</summary>
    public static async Task<SmtpConnection> OpenAsync(EffectiveMailSettings settings, DataFolder folder, CancellationToken cancellationToken)
    {
        var options = settings.Options;
        var roots = options.Trust switch
        {
            MailTrust.ApplianceCa => new X509Certificate2Collection(ServerCertificateStore.LoadCaCertificate(folder)),
            MailTrust.File when settings.CaPem is not null => RootsFromPem(settings.CaPem),
            MailTrust.File => LoadRoots(options.CaFile!),
            _ => null,
        };
        var connection = new SmtpConnection(options, settings.Password, roots);
        try
        {
            await connection.ConnectAsync(cancellationToken);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Hands one mail to the smarthost; the smarthost's refusal of this mail comes as <see cref="MailDeliveryException"/>.</summary>
    public async Task SendAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await _client.SendAsync(message, cancellationToken);
        }
        catch (SmtpCommandException ex)
        {
            throw new MailDeliveryException($"the smarthost refused the mail: {(int)ex.StatusCode} {ex.Message}", (int)ex.StatusCode >= 500, ex);
        }
        catch (Exception ex) when (ex is SmtpProtocolException or ServiceNotConnectedException or IOException or SocketException or TimeoutException)
        {
            throw new MailDeliveryException($"the connection to the smarthost broke off: {ex.Message}", permanent: false, ex);
        }
    }

    public async Task CloseAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _client.DisconnectAsync(quit: true, cancellationToken);
        }
        catch (Exception ex) when (ex is SmtpProtocolException or ServiceNotConnectedException or IOException or SocketException or TimeoutException or SmtpCommandException)
        {
            // The mail is handed over already; a broken goodbye changes nothing.
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        if (_roots is not null)
        {
            foreach (var root in _roots)
            {
                root.Dispose();
            }
        }
    }

    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var where = $"{_options.Host}:{_options.EffectivePort}";
        try
        {
            var security = _options.Security switch
            {
                MailSecurity.Tls => SecureSocketOptions.SslOnConnect,
                MailSecurity.StartTls => SecureSocketOptions.StartTls,
                _ => SecureSocketOptions.None,
            };
            await _client.ConnectAsync(_options.Host!, _options.EffectivePort, security, cancellationToken);
        }
        catch (SslHandshakeException ex)
        {
            throw new MailDeliveryException($"TLS with the smarthost {where} failed: its certificate is not trusted ({_options.Trust}) or the handshake broke off", permanent: false, ex);
        }
        catch (Exception ex) when (ex is SocketException or IOException or TimeoutException or SmtpProtocolException or SmtpCommandException or NotSupportedException or System.Security.Authentication.AuthenticationException)
        {
            throw new MailDeliveryException($"cannot reach the smarthost {where}: {ex.Message}", permanent: false, ex);
        }

        if (string.IsNullOrWhiteSpace(_options.User))
        {
            return;
        }

        var password = _password;
        try
        {
            password ??= (await File.ReadAllLinesAsync(_options.PasswordFile!, cancellationToken)).FirstOrDefault() ?? string.Empty;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new MailDeliveryException($"cannot read Mail:PasswordFile: {ex.Message}", permanent: false, ex);
        }

        try
        {
            await _client.AuthenticateAsync(_options.User, password, cancellationToken);
        }
        catch (MailKit.Security.AuthenticationException ex)
        {
            throw new MailDeliveryException($"the smarthost {where} refused the credentials of '{_options.User}': {ex.Message}", permanent: false, ex);
        }
        catch (Exception ex) when (ex is SmtpCommandException or SmtpProtocolException or IOException or NotSupportedException)
        {
            throw new MailDeliveryException($"signing in to the smarthost {where} failed: {ex.Message}", permanent: false, ex);
        }
    }

    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
        {
            return false;
        }

        using var presented = new X509Certificate2(certificate);
        using var ours = new X509Chain();
        ours.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        ours.ChainPolicy.DisableCertificateDownloads = true;
        ours.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                ours.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        if (_roots is not null)
        {
            ours.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            ours.ChainPolicy.CustomTrustStore.AddRange(_roots);
        }

        return ours.Build(presented);
    }

    private static X509Certificate2Collection RootsFromPem(string pem)
    {
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPem(pem);
        }
        catch (CryptographicException ex)
        {
            throw new MailDeliveryException($"the CA certificates set in the admin center cannot be read: {ex.Message}", permanent: false, ex);
        }

        return roots;
    }

    private static X509Certificate2Collection LoadRoots(string path)
    {
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new MailDeliveryException($"cannot read the CA file {path} (Mail:CaFile): {ex.Message}", permanent: false, ex);
        }

        return roots.Count > 0 ? roots : throw new MailDeliveryException($"the CA file {path} (Mail:CaFile) holds no certificate", permanent: false);
    }
}

/// <summary>A mail could not be handed over; <see cref="Permanent"/> when trying again cannot help (a 5xx refusal of that mail).</summary>
public sealed class MailDeliveryException : Exception
{
    public MailDeliveryException()
    {
    }

    public MailDeliveryException(string message)
        : base(message)
    {
    }

    public MailDeliveryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public MailDeliveryException(string message, bool permanent, Exception? innerException = null)
        : base(message, innerException)
    {
        Permanent = permanent;
    }

    public bool Permanent { get; }
}
