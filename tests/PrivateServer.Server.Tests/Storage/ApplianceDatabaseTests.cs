using LiteDB;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tests.Storage;

public sealed class ApplianceDatabaseTests : IDisposable
{
    private readonly TempDataFolder _temp = new();

    [Fact]
    public void Open_WhenFolderIsNotInitialised_SaysSoAndHowToFixIt()
    {
        var act = () => ApplianceDatabase.Open(_temp.Folder);

        act.Should().Throw<DataFolderException>().WithMessage("*is not initialised*privateserver init*");
    }

    [Fact]
    public async Task Open_WhenFileIsGarbage_ThrowsOneLineNamingTheFile()
    {
        await _temp.InitialiseAsync();
        await File.WriteAllBytesAsync(_temp.Folder.DatabasePath, Enumerable.Range(0, 65536).Select(i => (byte)(i * 7)).ToArray());

        var act = () => ApplianceDatabase.Open(_temp.Folder);

        act.Should().Throw<DataFolderException>()
            .Which.Message.Should().Contain(_temp.Folder.DatabasePath).And.Contain("cannot be read").And.NotContain("\n");
    }

    [Fact]
    public async Task Dates_ReadBack_AreTheSameUtcInstantWhateverTheMachinesTimeZone()
    {
        await _temp.InitialiseAsync();
        var written = new DateTime(2026, 11, 23, 9, 0, 0, DateTimeKind.Utc);
        using (var database = ApplianceDatabase.Open(_temp.Folder))
        {
            database.Lite.GetCollection("probe").Insert(new BsonDocument { ["_id"] = 1, ["at"] = written });
        }

        using var reopened = ApplianceDatabase.Open(_temp.Folder);
        var read = reopened.Lite.GetCollection("probe").FindById(1)["at"].AsDateTime;

        read.Kind.Should().Be(DateTimeKind.Utc, "a local-time read shifts every expiry on a VM not set to UTC");
        read.Should().Be(written);
    }

    [Fact]
    public async Task Open_WhenKeyIsWrong_RefusesWithoutDamagingTheFile()
    {
        await _temp.InitialiseAsync();
        var before = await File.ReadAllBytesAsync(_temp.Folder.DatabasePath);
        await File.WriteAllTextAsync(_temp.Folder.DatabaseKeyPath, Convert.ToBase64String(new byte[32]));

        var act = () => ApplianceDatabase.Open(_temp.Folder);

        act.Should().Throw<DataFolderException>();
        (await File.ReadAllBytesAsync(_temp.Folder.DatabasePath)).Should().Equal(before);
    }

    [Fact]
    public async Task Open_WhenAnotherOwnerHoldsIt_SaysItIsInUse()
    {
        await _temp.InitialiseAsync();
        using var first = ApplianceDatabase.Open(_temp.Folder);

        var act = () => ApplianceDatabase.Open(_temp.Folder);

        act.Should().Throw<DataFolderException>().WithMessage("*in use by another process*");
    }

    [Fact]
    public async Task Open_WhenInitialised_DatabaseIsEncryptedAtRest()
    {
        await _temp.InitialiseAsync();

        var bytes = await File.ReadAllBytesAsync(_temp.Folder.DatabasePath);

        System.Text.Encoding.ASCII.GetString(bytes).Should().NotContain("admin").And.NotContain("users");
        using var opened = ApplianceDatabase.Open(_temp.Folder);
    }

    public void Dispose() => _temp.Dispose();
}
