using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OtpNet;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Audit;
using QRCoder;

namespace PrivateServer.Server.Auth;

/// <summary>Settings of two-factor sign-in (section <c>Auth</c>).</summary>
public sealed class TwoFactorOptions
{
    public const string SectionName = "Auth";

    /// <summary>
    /// The roles that must sign in with a second factor, comma-separated (<c>admin</c>, <c>supporter</c>,
    /// <c>auditor</c>), or <c>none</c>. Groups can require it of their members on top (<see cref="Group.RequireTwoFactor"/>).
    /// </summary>
    public string TwoFactorRequiredFor { get; set; } = "admin";
}

/// <summary>What a user still has to do after the right password.</summary>
public enum SecondFactorStep
{
    /// <summary>Nothing: the password alone signs in.</summary>
    None,

    /// <summary>Type the current code of the authenticator app (or a recovery code).</summary>
    Code,

    /// <summary>A second factor is required and the user has none yet: set one up first.</summary>
    Enrol,
}

/// <summary>A new authenticator for a user: the Base32 secret, the <c>otpauth://</c> address and its QR code (SVG).</summary>
public sealed record TotpSetup(string Secret, Uri Address, string QrSvg);

/// <summary>How a second-factor code checked out.</summary>
public enum SecondFactorCheck
{
    Invalid,
    Totp,
    RecoveryCode,
}

/// <summary>
/// TOTP second factor (RFC 6238 with Otp.NET: SHA-1, 6 digits, 30 s, one step of clock skew either way) and ten single-use
/// recovery codes. A code is accepted once: the step it matched is stored, and only later steps count after it. Recovery
/// codes are 10 Base32 characters (50 bits) hashed with the password hasher; each one works once. Whether a user must
/// have a second factor comes from their role (<see cref="TwoFactorOptions"/>) and their groups.
/// </summary>
public sealed partial class TwoFactor(
    IUserStore users, IGroupStore groups, PasswordService passwords, AuditTrail audit, IOptions<TwoFactorOptions> options, TimeProvider time, ILogger<TwoFactor> logger) : IDisposable
{
    public const int RecoveryCodeCount = 10;
    private const int SecretBytes = 20;
    private const string RecoveryAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    private const int RecoveryCodeLength = 10;

    // One change to a user's second factor at a time, so a code cannot be used twice by two requests racing.
    private readonly SemaphoreSlim _changing = new(1, 1);

    /// <summary>The roles the configuration requires a second factor of.</summary>
    public IReadOnlySet<Role> RequiredRoles { get; } = ParseRoles(options.Value.TwoFactorRequiredFor);

    /// <summary>Parses <see cref="TwoFactorOptions.TwoFactorRequiredFor"/>; throws on an unknown role so a typo does not silently switch the requirement off.</summary>
    public static IReadOnlySet<Role> ParseRoles(string? setting) =>
        TryParseRoles(setting, out var roles)
            ? roles
            : throw new InvalidOperationException($"Auth:TwoFactorRequiredFor '{setting}' names a role that does not exist; use admin, supporter, auditor or none");

    public static bool TryParseRoles(string? setting, out IReadOnlySet<Role> roles)
    {
        var parsed = new HashSet<Role>();
        roles = parsed;
        foreach (var part in (setting ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part.Equals("none", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!Enum.TryParse<Role>(part, ignoreCase: true, out var role) || !Enum.IsDefined(role) || char.IsDigit(part[0]))
            {
                return false;
            }

            parsed.Add(role);
        }

        return true;
    }

    /// <summary>Whether the user must sign in with a second factor: by role, or by any of their groups.</summary>
    public async Task<bool> IsRequiredAsync(User user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        return RequiredRoles.Contains(user.Role) || IsRequired(user, await groups.GroupsOfAsync(user, cancellationToken));
    }

    /// <summary>As <see cref="IsRequiredAsync"/>, with the user's groups already loaded.</summary>
    public bool IsRequired(User user, IReadOnlyList<Group> memberOf)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(memberOf);
        return RequiredRoles.Contains(user.Role) || memberOf.Any(g => g.RequireTwoFactor);
    }

    /// <summary>What the user has to do after the right password.</summary>
    public async Task<SecondFactorStep> NextStepAsync(User user, CancellationToken cancellationToken) =>
        user.TwoFactor is not null ? SecondFactorStep.Code
        : await IsRequiredAsync(user, cancellationToken) ? SecondFactorStep.Enrol
        : SecondFactorStep.None;

    /// <summary>A new random secret for <paramref name="userName"/>, with its address and QR code; nothing is stored until <see cref="EnrolAsync"/>.</summary>
    public static TotpSetup NewSetup(string userName, string issuer)
    {
        var secret = Base32Encoding.ToString(RandomNumberGenerator.GetBytes(SecretBytes));
        return Setup(userName, issuer, secret);
    }

    /// <summary>The address and QR code of an existing secret (the page is shown again after a wrong code).</summary>
    public static TotpSetup Setup(string userName, string issuer, string secret)
    {
        var label = Uri.EscapeDataString(issuer) + ":" + Uri.EscapeDataString(userName);
        var address = new Uri($"otpauth://totp/{label}?secret={secret}&issuer={Uri.EscapeDataString(issuer)}&algorithm=SHA1&digits=6&period=30");
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(address.AbsoluteUri, QRCodeGenerator.ECCLevel.M);
        using var svg = new SvgQRCode(data);
        return new TotpSetup(secret, address, svg.GetGraphic(5));
    }

    /// <summary>Whether <paramref name="secret"/> is one this appliance could have handed out (Base32 of 20 bytes).</summary>
    public static bool IsSecret(string? secret)
    {
        if (secret is null || secret.Length != 32)
        {
            return false;
        }

        try
        {
            return Base32Encoding.ToBytes(secret).Length == SecretBytes;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>
    /// Sets up the user's authenticator once a code from it proves it works; returns the ten recovery codes (shown once),
    /// or null when the code is wrong. Replaces an earlier authenticator and its recovery codes — unless
    /// <paramref name="onlyIfNone"/> (the forced set-up at sign-in), which never replaces one set up meanwhile.
    /// </summary>
    public async Task<IReadOnlyList<string>?> EnrolAsync(
        string userName, string secret, string? code, string? source, CancellationToken cancellationToken, bool onlyIfNone = false)
    {
        if (!IsSecret(secret) || NormaliseTotp(code) is not { } digits)
        {
            return null;
        }

        await _changing.WaitAsync(cancellationToken);
        try
        {
            var user = await users.FindAsync(userName, cancellationToken);
            if (user is null || (onlyIfNone && user.TwoFactor is not null)
                || !new Totp(Base32Encoding.ToBytes(secret)).VerifyTotp(time.GetUtcNow().UtcDateTime, digits, out var step, VerificationWindow.RfcSpecifiedNetworkDelay))
            {
                return null;
            }

            var codes = Enumerable.Range(0, RecoveryCodeCount).Select(_ => NewRecoveryCode()).ToList();
            var enrolment = new TwoFactorEnrolment(secret, time.GetUtcNow(), step, codes.Select(c => passwords.Hash(Normalise(c))).ToList());
            await WriteAsync(user.Name, enrolment, audit.Entry(user.Name, "user.two-factor.enrolled", user.Name, source: source), cancellationToken);
            LogEnrolled(logger, user.Name);
            return codes;
        }
        finally
        {
            _changing.Release();
        }
    }

    /// <summary>Checks a code from the authenticator app or a recovery code, and uses it up.</summary>
    public async Task<SecondFactorCheck> VerifyAsync(string userName, string? code, CancellationToken cancellationToken)
    {
        await _changing.WaitAsync(cancellationToken);
        try
        {
            var user = await users.FindAsync(userName, cancellationToken);
            if (user?.TwoFactor is not { } enrolment || string.IsNullOrWhiteSpace(code) || code.Length > 64)
            {
                return SecondFactorCheck.Invalid;
            }

            if (NormaliseTotp(code) is { } digits)
            {
                var totp = new Totp(Base32Encoding.ToBytes(enrolment.Secret));
                if (!totp.VerifyTotp(time.GetUtcNow().UtcDateTime, digits, out var step, VerificationWindow.RfcSpecifiedNetworkDelay) || step <= enrolment.LastStep)
                {
                    return SecondFactorCheck.Invalid;
                }

                await users.SetTwoFactorAsync(user.Name, enrolment with { LastStep = step }, cancellationToken);
                return SecondFactorCheck.Totp;
            }

            var typed = Normalise(code);
            if (typed.Length != RecoveryCodeLength)
            {
                return SecondFactorCheck.Invalid;
            }

            var hashes = enrolment.RecoveryCodeHashes;
            var match = Enumerable.Range(0, hashes.Count).FirstOrDefault(i => passwords.Verify(hashes[i], typed) != PasswordCheck.Invalid, -1);
            if (match < 0)
            {
                return SecondFactorCheck.Invalid;
            }

            var left = hashes.Where((_, i) => i != match).ToList();
            await WriteAsync(
                user.Name, enrolment with { RecoveryCodeHashes = left },
                audit.Entry(user.Name, "user.two-factor.recovery-code-used", user.Name, details: AuditTrail.Details(("left", left.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)))),
                cancellationToken);
            LogRecoveryCodeUsed(logger, user.Name, left.Count);
            return SecondFactorCheck.RecoveryCode;
        }
        finally
        {
            _changing.Release();
        }
    }

    /// <summary>Ten new recovery codes for an enrolled user (the old ones stop working); null when the user has no second factor.</summary>
    public async Task<IReadOnlyList<string>?> NewRecoveryCodesAsync(string userName, string? source, CancellationToken cancellationToken)
    {
        await _changing.WaitAsync(cancellationToken);
        try
        {
            var user = await users.FindAsync(userName, cancellationToken);
            if (user?.TwoFactor is not { } enrolment)
            {
                return null;
            }

            var codes = Enumerable.Range(0, RecoveryCodeCount).Select(_ => NewRecoveryCode()).ToList();
            await WriteAsync(
                user.Name, enrolment with { RecoveryCodeHashes = codes.Select(c => passwords.Hash(Normalise(c))).ToList() },
                audit.Entry(user.Name, "user.two-factor.recovery-codes", user.Name, source: source),
                cancellationToken);
            return codes;
        }
        finally
        {
            _changing.Release();
        }
    }

    /// <summary>
    /// Removes the user's second factor (the user turning it off, or an admin after a lost phone: <paramref name="actor"/>
    /// null, audited as the acting admin); false when there was none.
    /// </summary>
    public async Task<bool> RemoveAsync(string userName, string? actor, string? source, CancellationToken cancellationToken)
    {
        await _changing.WaitAsync(cancellationToken);
        try
        {
            var user = await users.FindAsync(userName, cancellationToken);
            if (user?.TwoFactor is null)
            {
                return false;
            }

            var entry = actor is null ? audit.ChangeEntry("user.two-factor.removed", user.Name, null) : audit.Entry(actor, "user.two-factor.removed", user.Name, source: source);
            await WriteAsync(user.Name, null, entry, cancellationToken);
            LogRemoved(logger, user.Name, actor ?? "an admin");
            return true;
        }
        finally
        {
            _changing.Release();
        }
    }

    public void Dispose() => _changing.Dispose();

    /// <summary>The user's new (or removed) second factor and the event recording it, together or not at all.</summary>
    private Task WriteAsync(string userName, TwoFactorEnrolment? enrolment, AuditEntry entry, CancellationToken cancellationToken)
    {
        var change = new AtomicChange();
        change.TwoFactors.Add(new TwoFactorChange(userName, enrolment));
        change.Audit.Add(entry);
        return audit.WriteAsync(change, cancellationToken);
    }

    /// <summary>A recovery code as shown: two groups of five, e.g. <c>K7QXM-2HWPA</c>.</summary>
    private static string NewRecoveryCode()
    {
        var code = RandomNumberGenerator.GetString(RecoveryAlphabet, RecoveryCodeLength);
        return code[..5] + "-" + code[5..];
    }

    private static string Normalise(string code) =>
        new(code.Where(char.IsLetterOrDigit).Select(char.ToUpperInvariant).ToArray());

    /// <summary>The six digits of a TOTP code (spaces allowed, as apps show "123 456"), or null when it is not one.</summary>
    private static string? NormaliseTotp(string? code)
    {
        if (code is null)
        {
            return null;
        }

        var digits = new string(code.Where(c => !char.IsWhiteSpace(c)).ToArray());
        return digits.Length == 6 && digits.All(char.IsAsciiDigit) ? digits : null;
    }

    [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "User {UserName} set up two-factor sign-in")]
    private static partial void LogEnrolled(ILogger logger, string userName);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "User {UserName} signed in with a recovery code; {Left} left")]
    private static partial void LogRecoveryCodeUsed(ILogger logger, string userName, int left);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Warning, Message = "Two-factor sign-in of user {UserName} removed by {Actor}")]
    private static partial void LogRemoved(ILogger logger, string userName, string actor);
}

/// <summary>Registers sign-in checking (password, throttle, second factor, network rules) once, whichever part of the appliance asks first.</summary>
public static class SignInServices
{
    public static IServiceCollection AddSignIn(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<PasswordService>();
        services.TryAddSingleton<LoginThrottle>();
        services.TryAddSingleton<LoginService>();
        if (services.All(d => d.ServiceType != typeof(TwoFactor)))
        {
            services.AddSingleton<NetworkRules>();
            services.AddOptions<NetworkOptions>().BindConfiguration(NetworkOptions.SectionName)
                .Validate(o => NetworkRules.Validate(o, out _), "Network:SignInFrom or Network:TrustedProxies names a role that does not exist or a network that does not parse")
                .ValidateOnStart();
            services.AddSingleton<TwoFactor>();
            services.AddOptions<TwoFactorOptions>().BindConfiguration(TwoFactorOptions.SectionName)
                .Validate(o => TwoFactor.TryParseRoles(o.TwoFactorRequiredFor, out _), "Auth:TwoFactorRequiredFor names a role that does not exist; use admin, supporter, auditor or none")
                .ValidateOnStart();
        }

        return services;
    }
}
