using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using IPNetwork = System.Net.IPNetwork;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrivateServer.Server.Accounts;

namespace PrivateServer.Server.Auth;

/// <summary>Settings of where people and hosts may come from (section <c>Network</c>).</summary>
public sealed class NetworkOptions
{
    public const string SectionName = "Network";

    /// <summary>
    /// Reverse proxies (addresses or CIDR networks, comma-separated) whose <c>X-Forwarded-For</c> is believed. Empty
    /// (the default): the header is ignored and the connection's own address counts.
    /// </summary>
    public string TrustedProxies { get; set; } = string.Empty;

    /// <summary>Per role (<c>admin</c>, <c>supporter</c>, <c>auditor</c>): the networks its users may sign in from, comma-separated; missing or empty: anywhere.</summary>
    public Dictionary<string, string> SignInFrom { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>Address lists as admins write them: <c>10.1.0.0/24, 192.168.5.7, fd00::/8</c> (a single address is its own network).</summary>
public static class NetworkList
{
    /// <summary>Parses a comma- or space-separated list; <paramref name="problem"/> names the first entry that is not an address or network.</summary>
    public static bool TryParse(string? text, out IReadOnlyList<IPNetwork> networks, out string? problem) =>
        TryParse((text ?? string.Empty).Split([',', ' ', ';', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), out networks, out problem);

    public static bool TryParse(IEnumerable<string> entries, out IReadOnlyList<IPNetwork> networks, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var parsed = new List<IPNetwork>();
        networks = parsed;
        problem = null;
        foreach (var entry in entries.Select(e => e.Trim()).Where(e => e.Length > 0))
        {
            if (!TryParseOne(entry, out var network, out problem))
            {
                return false;
            }

            parsed.Add(network);
        }

        return true;
    }

    /// <summary>
    /// One address or network, strictly: IPv4 as four plain decimal parts (the legacy "10.1" and octal "010" forms .NET
    /// also accepts are refused), no zone, no IPv4-mapped IPv6, a prefix within the family, and no host bits under the
    /// prefix (10.1.0.1/24 is refused with the network it probably means), so what the admin reads is what is enforced.
    /// </summary>
    private static bool TryParseOne(string entry, out IPNetwork network, out string? problem)
    {
        network = default;
        problem = $"'{entry}' is not an address or network (CIDR, e.g. 10.1.0.0/24 or fd00::/8)";
        var slash = entry.IndexOf('/', StringComparison.Ordinal);
        var text = slash < 0 ? entry : entry[..slash];
        var ipv4 = text.All(c => char.IsAsciiDigit(c) || c == '.') && text.Count(c => c == '.') == 3;
        var ipv6 = text.Contains(':', StringComparison.Ordinal) && !text.Contains('%', StringComparison.Ordinal);
        // .NET reads "010" as octal (8): IPv4 parts must be plain decimal, as the address prints.
        if (!(ipv4 || ipv6) || !IPAddress.TryParse(text, out var address) || (ipv4 && address.ToString() != text))
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            // Clients are matched as IPv4 (Contains maps them), so a mapped rule could never match.
            problem = $"'{entry}' is an IPv4 network written as IPv6; write it as IPv4";
            return false;
        }

        var bits = ipv4 ? 32 : 128;
        var prefix = bits;
        if (slash >= 0)
        {
            var length = entry[(slash + 1)..];
            if (length.Length is 0 or > 3 || !length.All(char.IsAsciiDigit) || (prefix = int.Parse(length, System.Globalization.CultureInfo.InvariantCulture)) > bits)
            {
                return false;
            }
        }

        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }

        var masked = new IPAddress(bytes);
        if (!masked.Equals(address))
        {
            problem = $"'{entry}' has host bits set; the network is {masked}/{prefix}";
            return false;
        }

        network = new IPNetwork(masked, prefix);
        problem = null;
        return true;
    }

    /// <summary>The list in its canonical spelling, for storage and display.</summary>
    public static IReadOnlyList<string> Format(IEnumerable<IPNetwork> networks) => [.. networks.Select(n => n.ToString()).Distinct(StringComparer.Ordinal)];

    /// <summary>Whether <paramref name="address"/> (an IPv4-mapped IPv6 address counts as IPv4) is in one of the networks.</summary>
    public static bool Contains(IEnumerable<IPNetwork> networks, IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return networks.Any(n => n.Contains(plain));
    }
}

/// <summary>
/// Where people may sign in from and hosts may connect from: per role (configuration, <see cref="NetworkOptions.SignInFrom"/>,
/// so nobody locks the admins out from the admin center) and per group (policy in the admin center:
/// <see cref="Group.SignInFrom"/> for its members, <see cref="Group.HostsFrom"/> for its hosts). Every rule that applies
/// must allow the address. Checked on the real client address: the connection's, or the one a trusted proxy forwarded
/// (<see cref="UseTrustedProxies"/>).
/// </summary>
public sealed partial class NetworkRules(IGroupStore groups, IOptions<NetworkOptions> options, ILogger<NetworkRules> logger, TimeProvider? time = null)
{
    private static readonly TimeSpan AuditEvery = TimeSpan.FromHours(1);

    private readonly Dictionary<Role, IReadOnlyList<IPNetwork>> _roles = ParseRoles(options.Value);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> _audited = new(StringComparer.Ordinal);

    /// <summary>
    /// Whether a refusal of <paramref name="subject"/> (a host retrying from the wrong network) should be audited now: the
    /// first one, then at most once an hour — the log has every one, the trail does not fill up with a misplaced host.
    /// </summary>
    public bool AuditRefusal(string subject)
    {
        var now = (time ?? TimeProvider.System).GetUtcNow();
        if (_audited.TryGetValue(subject, out var last) && now - last < AuditEvery)
        {
            return false;
        }

        if (_audited.Count > 100_000)
        {
            _audited.Clear();
        }

        _audited[subject] = now;
        return true;
    }

    /// <summary>Why <paramref name="user"/> may not sign in (or keep using a sign-in) from <paramref name="source"/>; null when they may.</summary>
    public async Task<string?> SignInRefusalAsync(User user, IPAddress? source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        // The local admin socket (no address) involves no network and needs no group.
        return source is null ? null : SignInRefusal(user, source, await groups.GroupsOfAsync(user, cancellationToken));
    }

    /// <summary>As <see cref="SignInRefusalAsync"/>, with the user's groups already loaded.</summary>
    public string? SignInRefusal(User user, IPAddress? source, IReadOnlyList<Group> memberOf)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(memberOf);
        if (source is null)
        {
            return null;
        }

        if (_roles.TryGetValue(user.Role, out var allowed) && !NetworkList.Contains(allowed, source))
        {
            return Refusal(source, $"role {user.Role.ToString().ToLowerInvariant()}", allowed);
        }

        foreach (var group in memberOf)
        {
            if (group.SignInFrom.Count > 0 && Refused(group.SignInFrom, source) is { } networks)
            {
                return Refusal(source, $"group {group.Name}", networks);
            }
        }

        return null;
    }

    /// <summary>Why a host of <paramref name="groupName"/> may not connect from <paramref name="source"/>; null when it may.</summary>
    public async Task<string?> HostRefusalAsync(string groupName, IPAddress? source, CancellationToken cancellationToken)
    {
        if (source is null || await groups.FindAsync(groupName, cancellationToken) is not { HostsFrom.Count: > 0 } group)
        {
            return null;
        }

        return Refused(group.HostsFrom, source) is { } networks ? Refusal(source, $"the hosts of group {group.Name}", networks) : null;
    }

    private static IReadOnlyList<IPNetwork>? Refused(IReadOnlyList<string> stored, IPAddress source) =>
        NetworkList.TryParse(stored, out var networks, out _) && NetworkList.Contains(networks, source) ? null : networks;

    private static string Refusal(IPAddress source, string who, IReadOnlyList<IPNetwork> allowed) =>
        $"{source} is outside the networks {who} may come from ({string.Join(", ", allowed)})";

    private static Dictionary<Role, IReadOnlyList<IPNetwork>> ParseRoles(NetworkOptions options)
    {
        var roles = new Dictionary<Role, IReadOnlyList<IPNetwork>>();
        foreach (var (name, list) in options.SignInFrom)
        {
            if (!Enum.TryParse<Role>(name, ignoreCase: true, out var role) || !Enum.IsDefined(role) || char.IsDigit(name[0]))
            {
                throw new InvalidOperationException($"Network:SignInFrom:{name}: there is no role '{name}'; use admin, supporter or auditor");
            }

            if (!NetworkList.TryParse(list, out var networks, out var problem))
            {
                throw new InvalidOperationException($"Network:SignInFrom:{name}: {problem}");
            }

            if (networks.Count > 0)
            {
                roles[role] = networks;
            }
        }

        return roles;
    }

    /// <summary>Checks the settings at start: an unknown role or a mistyped network stops the appliance instead of silently allowing everyone.</summary>
    public static bool Validate(NetworkOptions options, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            _ = ParseRoles(options);
        }
        catch (InvalidOperationException ex)
        {
            problem = ex.Message;
            return false;
        }

        if (!NetworkList.TryParse(options.TrustedProxies, out _, out var proxies))
        {
            problem = "Network:TrustedProxies: " + proxies;
            return false;
        }

        problem = null;
        return true;
    }

    /// <summary>
    /// Believes <c>X-Forwarded-For</c> only from the configured proxies (none by default): the client address becomes the
    /// last one the chain of trusted proxies forwarded. Without trusted proxies the header is ignored, so nobody can claim
    /// another address by sending it.
    /// </summary>
    public static IApplicationBuilder UseTrustedProxies(IApplicationBuilder app, NetworkOptions options)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(options);
        if (!NetworkList.TryParse(options.TrustedProxies, out var proxies, out var problem))
        {
            throw new InvalidOperationException("Network:TrustedProxies: " + problem);
        }

        if (proxies.Count == 0)
        {
            return app;
        }

        var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor, ForwardLimit = null };
        // The defaults trust loopback; only what the admin configured counts.
        forwarded.KnownProxies.Clear();
        forwarded.KnownIPNetworks.Clear();
        foreach (var proxy in proxies)
        {
            forwarded.KnownIPNetworks.Add(proxy);
        }

        return app.UseForwardedHeaders(forwarded);
    }

    /// <summary>Logs a refusal (the log line names the address, for fail2ban and admins).</summary>
    public void LogRefused(string what, string refusal) => LogRefusal(logger, what, refusal);

    [LoggerMessage(EventId = 2020, Level = LogLevel.Warning, Message = "Refused {What}: {Refusal}")]
    private static partial void LogRefusal(ILogger logger, string what, string refusal);
}
