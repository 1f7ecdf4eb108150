using PrivateServer.Server.Auth;

namespace PrivateServer.Server.Tests.Auth;

public sealed class PasswordServiceTests
{
    private readonly PasswordService _passwords = new();

    [Fact]
    public void Verify_WhenPasswordIsTheHashedOne_IsValid()
    {
        var hash = _passwords.Hash("correct horse battery staple");

        _passwords.Verify(hash, "correct horse battery staple").Should().Be(PasswordCheck.Valid);
    }

    [Fact]
    public void Verify_WhenPasswordDiffers_IsInvalid()
    {
        var hash = _passwords.Hash("correct horse battery staple");

        _passwords.Verify(hash, "correct horse battery stapl").Should().Be(PasswordCheck.Invalid);
        _passwords.Verify(hash, string.Empty).Should().Be(PasswordCheck.Invalid);
    }

    [Fact]
    public void Hash_WhenCalledTwice_SaltsEachHashAndNeverStoresThePassword()
    {
        var first = _passwords.Hash("correct horse battery staple");
        var second = _passwords.Hash("correct horse battery staple");

        first.Should().NotBe(second);
        first.Should().NotContain("correct horse");
    }

    [Fact]
    public void Generate_WhenCalled_GivesDistinctPasswordsThatMeetThePolicy()
    {
        var passwords = Enumerable.Range(0, 100).Select(_ => PasswordService.Generate()).ToList();

        passwords.Should().OnlyHaveUniqueItems();
        passwords.Should().AllSatisfy(p => PasswordService.PolicyViolation(p, "admin").Should().BeNull());
        passwords.Should().AllSatisfy(p => p.Should().MatchRegex("^[A-HJ-NP-Za-km-z2-9]{20}$"));
    }

    [Theory]
    [InlineData("short", "bob", "at least 12")]
    [InlineData("administrator", "Administrator", "user name")]
    [InlineData("1qaz2wsx3edc", "bob", "10,000 most common")]
    [InlineData("QWERTY123456", "bob", "10,000 most common")]
    public void PolicyViolation_WhenPasswordIsWeak_SaysWhy(string password, string user, string reason)
    {
        PasswordService.PolicyViolation(password, user).Should().Contain(reason);
    }

    [Theory]
    [InlineData("123456", true)]
    [InlineData("Password", true)]
    [InlineData("leavemealone", true)]
    [InlineData("leavemealone!", false)]
    [InlineData("correct horse battery staple", false)]
    public void IsCommon_KnowsTheEmbeddedListIgnoringCase(string password, bool common)
    {
        PasswordService.IsCommon(password).Should().Be(common);
    }
}
