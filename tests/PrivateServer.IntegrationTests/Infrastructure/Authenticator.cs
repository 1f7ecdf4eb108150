using OtpNet;

namespace PrivateServer.IntegrationTests.Infrastructure;

/// <summary>
/// What an authenticator app on the user's phone does: holds the secret from the QR code and shows the current
/// six-digit code (RFC 6238, Otp.NET). The appliance takes each code once, so <see cref="NextCodeAsync"/> waits for a
/// 30-second step that has not been used yet, as a person would wait for the app to show a new code.
/// </summary>
public sealed class Authenticator(string secret)
{
    private readonly Totp _totp = new(Base32Encoding.ToBytes(secret));
    private long _lastStep = -1;

    public string Secret => secret;

    /// <summary>From the <c>otpauth://totp/…?secret=…</c> address a QR code holds.</summary>
    public static Authenticator FromAddress(string address)
    {
        var query = new Uri(address.Trim()).Query.TrimStart('?').Split('&');
        var value = query.Select(pair => pair.Split('=', 2)).First(pair => pair[0] == "secret")[1];
        return new Authenticator(Uri.UnescapeDataString(value));
    }

    /// <summary>A code for a step no earlier code of this app was for.</summary>
    public async Task<string> NextCodeAsync(CancellationToken cancellationToken)
    {
        while (Step() <= _lastStep)
        {
            await Task.Delay(250, cancellationToken);
        }

        _lastStep = Step();
        return _totp.ComputeTotp(DateTime.UtcNow);
    }

    /// <summary>A code that is wrong for every step the appliance accepts now.</summary>
    public string WrongCode()
    {
        var valid = new[] { -30, 0, 30 }.Select(s => _totp.ComputeTotp(DateTime.UtcNow.AddSeconds(s))).ToHashSet();
        return Enumerable.Range(0, 10).Select(i => new string((char)('0' + i), 6)).First(c => !valid.Contains(c));
    }

    private static long Step() => DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 30;
}
