using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PrivateServer.Certs.Issuance;

namespace PrivateServer.Certs.Authority;

/// <summary>
/// The appliance's own root CA: ECDSA P-384, self-signed, ten years, path length 0. It signs
/// end-entity certificates directly (server, module and audit certificates); an intermediate
/// would add nothing here because both keys would live in the same protected data folder.
/// </summary>
public sealed class ApplianceAuthority : IDisposable
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(3653);

    private ApplianceAuthority(X509Certificate2 certificate)
    {
        Certificate = certificate;
    }

    /// <summary>The CA certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>SHA-256 of the CA certificate (DER), lower-case hex: what modules pin.</summary>
    public string Fingerprint => CertificateFingerprint.Sha256Hex(Certificate);

    public static ApplianceAuthority Create(string commonName, DateTimeOffset now)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(commonName);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddOrganizationName("PrivateServer");
        subject.AddCommonName(commonName);
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA384);
        request.CertificateExtensions.Add(X509BasicConstraintsExtension.CreateForCertificateAuthority(pathLengthConstraint: 0));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, critical: true));
        var subjectKeyId = new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false);
        request.CertificateExtensions.Add(subjectKeyId);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(subjectKeyId));

        var notBefore = now.AddMinutes(-5);
        return new ApplianceAuthority(request.CreateSelfSigned(notBefore, notBefore + Lifetime));
    }

    /// <summary>Wraps a CA certificate that carries its private key (as loaded from the data folder).</summary>
    public static ApplianceAuthority FromCertificate(X509Certificate2 certificateWithKey)
    {
        ArgumentNullException.ThrowIfNull(certificateWithKey);
        if (!certificateWithKey.HasPrivateKey)
        {
            throw new ArgumentException("The appliance CA certificate has no private key.", nameof(certificateWithKey));
        }

        return new ApplianceAuthority(certificateWithKey);
    }

    /// <summary>
    /// Issues a TLS server certificate (ECDSA P-256, EKU serverAuth) for the given names, which
    /// are DNS names or IP addresses. The certificate never outlives the CA.
    /// </summary>
    public X509Certificate2 IssueServerCertificate(IReadOnlyList<SubjectName> names, DateTimeOffset now, TimeSpan validity)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (names.Count == 0)
        {
            throw new ArgumentException("A server certificate needs at least one name.", nameof(names));
        }

        if (validity <= TimeSpan.Zero || validity > ServerCertificatePolicy.MaximumValidity)
        {
            throw new ArgumentOutOfRangeException(nameof(validity), validity, "Server certificates are valid for at most 397 days.");
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddOrganizationName("PrivateServer");
        subject.AddCommonName(names[0].Value);
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(ServerCertificatePolicy.ServerAuthOid)], critical: false));
        request.CertificateExtensions.Add(SubjectName.BuildAlternativeNames(names));
        return IssueWithNewKey(request, key, now, validity);
    }

    /// <summary>
    /// Issues a host's client certificate (EKU clientAuth) for the public key of its checked
    /// certificate request (<see cref="ModuleCertificatePolicy.TryReadRequest"/>); the subject is
    /// the host id alone, whatever the request asked for. The private key never left the host.
    /// </summary>
    public X509Certificate2 IssueHostCertificate(CertificateRequest hostRequest, string hostId, DateTimeOffset now, TimeSpan validity)
    {
        ArgumentNullException.ThrowIfNull(hostRequest);
        ArgumentException.ThrowIfNullOrWhiteSpace(hostId);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddOrganizationName("PrivateServer hosts");
        subject.AddCommonName(hostId);
        var request = new CertificateRequest(subject.Build(), hostRequest.PublicKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ModuleCertificatePolicy.ClientAuthOid)], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(
            Certificate, includeKeyIdentifier: true, includeIssuerAndSerial: false));

        var notBefore = Max(now.AddMinutes(-5), new DateTimeOffset(Certificate.NotBefore.ToUniversalTime()));
        var notAfter = Min(now + validity, new DateTimeOffset(Certificate.NotAfter.ToUniversalTime()));
        using var key = Certificate.GetECDsaPrivateKey() ?? throw new InvalidOperationException("The appliance CA key is not ECDSA.");
        return request.Create(Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(key), notBefore, notAfter, SerialNumber.NewRandom());
    }

    /// <summary>
    /// Issues the audit signing certificate (ECDSA P-256; key usage digital signature and non-repudiation,
    /// no extended key usage, so <c>openssl cms -verify</c> accepts it for any purpose). It signs audit
    /// exports and the audit trail's head; it never outlives the CA.
    /// </summary>
    public X509Certificate2 IssueAuditSigningCertificate(DateTimeOffset now, TimeSpan validity)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddOrganizationName("PrivateServer");
        subject.AddCommonName("PrivateServer audit signing");
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation, critical: true));
        return IssueWithNewKey(request, key, now, validity);
    }

    /// <summary>Adds the key identifiers, signs with the CA for the validity (within the CA's own) and attaches the new key.</summary>
    private X509Certificate2 IssueWithNewKey(CertificateRequest request, ECDsa key, DateTimeOffset now, TimeSpan validity)
    {
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(
            Certificate, includeKeyIdentifier: true, includeIssuerAndSerial: false));

        // Five minutes of slack for clocks behind ours, but never before the CA itself is valid.
        var notBefore = Max(now.AddMinutes(-5), new DateTimeOffset(Certificate.NotBefore.ToUniversalTime()));
        var notAfter = Min(now + validity, new DateTimeOffset(Certificate.NotAfter.ToUniversalTime()));
        using var issued = request.Create(Certificate, notBefore, notAfter, SerialNumber.NewRandom());
        return issued.CopyWithPrivateKey(key);
    }

    public void Dispose() => Certificate.Dispose();

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
