using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PrivateServer.Server.AdHoc;
using PrivateServer.Server.Admin;
using PrivateServer.Server.Settings;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tests.Settings;

public sealed class SettingsServiceTests : IAsyncLifetime, IDisposable
{
    private readonly ManualClock _clock = ManualClock.Monday();
    private readonly AdHocOptions _configured = new()
    {
        CodeLifetime = TimeSpan.FromMinutes(10),
        SupportTerms = new(StringComparer.OrdinalIgnoreCase) { ["en"] = "Configured terms.", ["fr"] = "Conditions configurées." },
    };

    private TempDatabase? _temp;

    public async Task InitializeAsync()
    {
        _temp = await TempDatabase.OpenAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Current_WithNothingStored_IsTheConfiguration()
    {
        using var settings = Service();

        var current = await settings.CurrentAsync(CancellationToken.None);

        current.CodeLifetime.Should().Be(TimeSpan.FromMinutes(10));
        current.SupportTerms.Should().BeEquivalentTo(new Dictionary<string, string> { ["en"] = "Configured terms.", ["fr"] = "Conditions configurées." });
        current.CompanyName.Should().BeNull();
        current.Logo.Should().BeNull();
    }

    [Fact]
    public async Task Update_OverridesTheConfigurationAndSurvivesARestart_EmptyFieldsFallBack()
    {
        using (var settings = Service())
        {
            var outcome = await settings.UpdateAsync(Change(de: "  Deutsche Bedingungen.\r\nZweite Zeile.  ", en: "", minutes: 3, company: " Muster GmbH "), "admin", CancellationToken.None);
            outcome.Failure.Should().BeNull();
        }

        _temp!.Reopen();
        using var restarted = Service();
        var current = await restarted.CurrentAsync(CancellationToken.None);

        current.CodeLifetime.Should().Be(TimeSpan.FromMinutes(3));
        current.CompanyName.Should().Be("Muster GmbH");
        current.SupportTerms["de"].Should().Be("Deutsche Bedingungen.\nZweite Zeile.");
        current.SupportTerms["en"].Should().Be("Configured terms.", "an empty field keeps the configured text");
        current.SupportTerms["fr"].Should().Be("Conditions configurées.");
    }

    [Theory]
    [InlineData(0, null, "a session code lives 1 to 1440 minutes, not 0")]
    [InlineData(1441, null, "a session code lives 1 to 1440 minutes, not 1441")]
    [InlineData(5, "Line one\nline two", "the company name must be one line of at most 80 characters")]
    public async Task Update_WithABadValue_SaysWhatIsWrongAndChangesNothing(int minutes, string? company, string expected)
    {
        using var settings = Service();
        await settings.UpdateAsync(Change(de: "Gültig.", en: null, minutes: 7, company: "Before"), "admin", CancellationToken.None);

        var outcome = await settings.UpdateAsync(Change(de: "Neu.", en: "New.", minutes: minutes, company: company), "admin", CancellationToken.None);
        var current = await settings.CurrentAsync(CancellationToken.None);

        outcome.Failure.Should().Be(new AdminFailure(AdminFailureKind.Invalid, expected));
        current.CodeLifetime.Should().Be(TimeSpan.FromMinutes(7));
        current.CompanyName.Should().Be("Before");
        current.SupportTerms["de"].Should().Be("Gültig.");
    }

    [Fact]
    public async Task Update_WithTermsTooLong_IsRefused()
    {
        using var settings = Service();

        var outcome = await settings.UpdateAsync(Change(de: new string('x', SettingsService.MaximumTermsLength + 1), en: null, minutes: null, company: null), "admin", CancellationToken.None);

        outcome.Failure!.Message.Should().Be("the support terms (de) are 16,385 characters long; at most 16,384 are allowed");
        (await settings.CurrentAsync(CancellationToken.None)).SupportTerms.Should().NotContainKey("de");
    }

    [Fact]
    public async Task SetLogo_KeepsTheOtherSettings_AndRemovingItLeavesThemToo()
    {
        using var settings = Service();
        await settings.UpdateAsync(Change(de: null, en: "Terms.", minutes: 5, company: "Muster GmbH"), "admin", CancellationToken.None);
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3];

        var withLogo = await settings.SetLogoAsync("image/png", png, "admin", CancellationToken.None);
        var without = await settings.SetLogoAsync(null, null, "admin", CancellationToken.None);

        withLogo.Logo!.Bytes.Should().Equal(png);
        withLogo.Logo.UpdatedAt.Should().Be(_clock.GetUtcNow());
        withLogo.CompanyName.Should().Be("Muster GmbH");
        without.Logo.Should().BeNull();
        without.CodeLifetime.Should().Be(TimeSpan.FromMinutes(5));
        without.SupportTerms["en"].Should().Be("Terms.");
    }

    public void Dispose()
    {
        _temp?.Dispose();
    }

    private static SettingsChange Change(string? de, string? en, int? minutes, string? company) =>
        new(new Dictionary<string, string?> { ["de"] = de, ["en"] = en }, minutes, company);

    private SettingsService Service() =>
        new(new LiteDbSettingsStore(_temp!.Database), Options.Create(_configured), TestAudit.Trail(_temp.Database, _clock), _clock, NullLogger<SettingsService>.Instance);
}
