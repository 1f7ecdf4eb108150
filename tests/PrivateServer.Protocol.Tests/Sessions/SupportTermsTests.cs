using PrivateServer.Protocol.Sessions;

namespace PrivateServer.Protocol.Tests.Sessions;

public sealed class SupportTermsTests
{
    private static readonly SupportTerms[] Both = [new("de", "Bedingungen"), new("en", "Terms")];

    [Theory]
    [InlineData("de", "Bedingungen")]
    [InlineData("en", "Terms")]
    [InlineData("fr", "Terms")]
    [InlineData("iv", "Terms")]
    public void Choose_PrefersTheUsersLanguageThenEnglish(string language, string expected)
    {
        SupportTerms.Choose(Both, language)!.Text.Should().Be(expected);
    }

    [Fact]
    public void Choose_WithoutEnglish_TakesTheFirst()
    {
        SupportTerms.Choose([new SupportTerms("de", "Nur Deutsch")], "fr")!.Text.Should().Be("Nur Deutsch");
        SupportTerms.Choose([], "de").Should().BeNull();
        SupportTerms.Choose(null, "de").Should().BeNull();
    }

    [Fact]
    public void Sha256_IsTheHexOfTheUtf8Text()
    {
        SupportTerms.Sha256("abc").Should().Be("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        SupportTerms.Sha256("Größe").Should().NotBe(SupportTerms.Sha256("Grösse"));
    }
}
