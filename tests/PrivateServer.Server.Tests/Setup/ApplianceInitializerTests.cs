using System.Security.Cryptography;
using PrivateServer.Certs.Issuance;
using PrivateServer.Server.Setup;
using PrivateServer.Server.Storage;
using PrivateServer.Server.Tls;

namespace PrivateServer.Server.Tests.Setup;

public sealed class ApplianceInitializerTests : IDisposable
{
    private readonly TempDataFolder _temp = new();

    [Fact]
    public async Task Initialise_WhenFolderIsNew_WritesEverySecretOwnerOnly()
    {
        var result = await _temp.InitialiseAsync();

        result.GeneratedAdminPassword.Should().HaveLength(20);
        var folder = _temp.Folder;
        foreach (var path in new[] { folder.DatabasePath, folder.DatabaseKeyPath, folder.MasterKeyPath, folder.CaKeyPath, folder.ServerKeyPath })
        {
            File.GetUnixFileMode(path).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite, path);
        }

        File.GetUnixFileMode(folder.KeysDirectory).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        (await File.ReadAllTextAsync(folder.CaKeyPath)).Should().StartWith("-----BEGIN ENCRYPTED PRIVATE KEY-----");
        (await File.ReadAllTextAsync(folder.ServerKeyPath)).Should().StartWith("-----BEGIN ENCRYPTED PRIVATE KEY-----");
    }

    [Fact]
    public async Task Initialise_WhenDone_ServerCertificateLoadsWithItsChainAndCoversTheHostNames()
    {
        var result = await _temp.InitialiseAsync();

        using var store = ServerCertificateStore.Load(_temp.Folder, DateTimeOffset.UtcNow);
        using var ca = ServerCertificateStore.LoadCaCertificate(_temp.Folder);

        store.Certificate.HasPrivateKey.Should().BeTrue();
        store.Certificate.MatchesHostname("rs.example.internal").Should().BeTrue();
        store.Certificate.MatchesHostname("localhost").Should().BeTrue();
        store.Certificate.Issuer.Should().Be(ca.Subject);
        Convert.ToHexStringLower(SHA256.HashData(ca.RawData)).Should().Be(result.CaFingerprint);
    }

    [Fact]
    public async Task Initialise_WhenFolderIsInitialised_RefusesAndChangesNothing()
    {
        await _temp.InitialiseAsync();
        var before = Snapshot(_temp.Folder);

        var act = () => _temp.InitialiseAsync();

        await act.Should().ThrowAsync<DataFolderException>().WithMessage("*already initialised*");
        Snapshot(_temp.Folder).Should().BeEquivalentTo(before);
    }

    [Fact]
    public async Task Initialise_WhenChosenAdminPasswordIsWeak_RefusesAndWritesNothing()
    {
        var act = () => new ApplianceInitializer(TimeProvider.System).InitialiseAsync(
            _temp.Folder, new InitRequest([SubjectName.Parse("localhost")], "admin", "weak"), CancellationToken.None);

        await act.Should().ThrowAsync<ArgumentException>().WithMessage("*at least 12*");
        _temp.Folder.IsInitialised.Should().BeFalse();
    }

    private static Dictionary<string, string> Snapshot(DataFolder folder) =>
        Directory.EnumerateFiles(folder.Root, "*", SearchOption.AllDirectories)
            .ToDictionary(p => p, p => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p))));

    public void Dispose() => _temp.Dispose();
}
