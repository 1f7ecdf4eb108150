using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace PrivateServer.Certs.Issuance;

/// <summary>A name a server certificate is valid for: a DNS host name or an IP address.</summary>
public sealed record SubjectName
{
    private SubjectName(string value, IPAddress? address)
    {
        Value = value;
        Address = address;
    }

    public string Value { get; }

    public IPAddress? Address { get; }

    public bool IsIpAddress => Address is not null;

    /// <summary>Parses a host name or IP address; returns false with a reason for anything else.</summary>
    public static bool TryParse(string? text, out SubjectName? name, out string error)
    {
        name = null;
        var candidate = text?.Trim() ?? string.Empty;
        if (IPAddress.TryParse(candidate, out var address) && !candidate.Contains('%', StringComparison.Ordinal))
        {
            name = new SubjectName(address.ToString(), address);
            error = string.Empty;
            return true;
        }

        error = DnsNameError(candidate);
        if (error.Length > 0)
        {
            return false;
        }

        name = new SubjectName(candidate.ToLowerInvariant(), null);
        return true;
    }

    public static SubjectName Parse(string text) =>
        TryParse(text, out var name, out var error) ? name! : throw new FormatException(error);

    internal static X509Extension BuildAlternativeNames(IEnumerable<SubjectName> names)
    {
        var builder = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            if (name.Address is { } address)
            {
                builder.AddIpAddress(address);
            }
            else
            {
                builder.AddDnsName(name.Value);
            }
        }

        return builder.Build(critical: false);
    }

    private static string DnsNameError(string candidate)
    {
        if (candidate.Length == 0)
        {
            return "a host name must not be empty";
        }

        if (candidate.Length > 253)
        {
            return string.Create(CultureInfo.InvariantCulture, $"'{candidate[..20]}…' is longer than 253 characters");
        }

        foreach (var label in candidate.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-' || !label.All(IsLabelCharacter))
            {
                return $"'{candidate}' is neither an IP address nor a valid DNS host name";
            }
        }

        return string.Empty;
    }

    private static bool IsLabelCharacter(char c) => char.IsAsciiLetterOrDigit(c) || c == '-';
}
