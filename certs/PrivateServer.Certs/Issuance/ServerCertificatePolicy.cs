namespace PrivateServer.Certs.Issuance;

/// <summary>What a TLS server certificate issued by the appliance must satisfy.</summary>
public static class ServerCertificatePolicy
{
    /// <summary>CA/Browser Forum limit, which browsers enforce for every certificate.</summary>
    public static readonly TimeSpan MaximumValidity = TimeSpan.FromDays(397);

    public const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";

    /// <summary>The names every appliance server certificate carries besides the configured ones.</summary>
    public static IReadOnlyList<SubjectName> WithLoopbackNames(IEnumerable<SubjectName> configured)
    {
        var names = new List<SubjectName>();
        foreach (var name in configured.Concat([SubjectName.Parse("localhost"), SubjectName.Parse("127.0.0.1"), SubjectName.Parse("::1")]))
        {
            if (!names.Contains(name))
            {
                names.Add(name);
            }
        }

        return names;
    }
}
