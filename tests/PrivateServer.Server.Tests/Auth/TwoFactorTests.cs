using System.Net;
using LiteDB;
using OtpNet;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tests.Auth;

public sealed class TwoFactorTests : IAsyncLifetime, IDisposable
{
    private const string Password = "Correct-Horse-2026";
    private static readonly IPAddress Office = IPAddress.Parse("10.0.0.7");

    private readonly ManualClock _clock = ManualClock.Monday();
    private TempDatabase _temp = null!;
    private LoginService _login = null!;
    private TwoFactor _twoFactor = null!;
    private LiteDbUserStore _users = null!;

    public async Task InitializeAsync()
    {
        _temp = await TempDatabase.OpenAsync();
        Use("admin");
        _users = new LiteDbUserStore(_temp.Database);
        await AddAsync("alice", Role.Supporter);
        await AddAsync("root", Role.Admin);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        _twoFactor.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public async Task Enrol_WithTheAppsCode_KeepsTheSecret_AndGivesTenRecoveryCodesStoredOnlyAsHashes()
    {
        var setup = TwoFactor.NewSetup("alice", "PrivateServer (rs.example.internal)");

        (await _twoFactor.EnrolAsync("alice", setup.Secret, WrongCode(setup.Secret), null, default)).Should().BeNull("a wrong code proves nothing");
        (await _users.FindAsync("alice", default))!.TwoFactor.Should().BeNull();

        var codes = await _twoFactor.EnrolAsync("alice", setup.Secret, Code(setup.Secret), null, default);

        codes.Should().HaveCount(10).And.OnlyHaveUniqueItems().And.AllSatisfy(c => c.Should().MatchRegex("^[A-Z2-9]{5}-[A-Z2-9]{5}$"));
        setup.Address.AbsoluteUri.Should().StartWith("otpauth://totp/").And.Contain("secret=" + setup.Secret).And.Contain("issuer=PrivateServer");
        setup.QrSvg.Should().StartWith("<svg").And.NotContain("style=", "the console's CSP forbids inline styles");
        var raw = _temp.Database.Lite.GetCollection("twoFactor").FindById("alice");
        raw["Secret"].AsString.Should().Be(setup.Secret);
        var stored = raw.ToString();
        foreach (var code in codes!)
        {
            stored.Should().NotContain(code).And.NotContain(code.Replace("-", string.Empty, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task WritingAUserBack_NeverUndoesASecondFactorChangeMadeMeanwhile()
    {
        var stale = (await _users.FindAsync("alice", default))!;
        var secret = await EnrolAsync("alice");
        await _users.UpdateAsync(stale with { Email = "alice@example.internal" }, default);

        var now = (await _users.FindAsync("alice", default))!;

        now.Email.Should().Be("alice@example.internal");
        now.TwoFactor!.Secret.Should().Be(secret, "an admin saving an old copy of the user keeps her authenticator");
        (await _users.ListAsync(default)).Single(u => u.Name == "alice").TwoFactor.Should().NotBeNull();
    }

    [Fact]
    public async Task ACode_WorksOnce_OneStepOfClockSkewEitherWay_NotOlder()
    {
        var secret = await EnrolAsync("alice");
        _clock.Advance(TimeSpan.FromSeconds(30));

        (await _twoFactor.VerifyAsync("alice", Code(secret), default)).Should().Be(SecondFactorCheck.Totp);
        (await _twoFactor.VerifyAsync("alice", Code(secret), default)).Should().Be(SecondFactorCheck.Invalid, "a code is used up");

        _clock.Advance(TimeSpan.FromSeconds(30));
        (await _twoFactor.VerifyAsync("alice", Code(secret, TimeSpan.FromSeconds(30)), default)).Should().Be(SecondFactorCheck.Totp, "the phone's clock may be 30 s ahead");
        _clock.Advance(TimeSpan.FromMinutes(5));
        (await _twoFactor.VerifyAsync("alice", Code(secret, TimeSpan.FromSeconds(-60)), default)).Should().Be(SecondFactorCheck.Invalid, "two steps behind is too old");
        (await _twoFactor.VerifyAsync("alice", Code(secret, TimeSpan.FromSeconds(-30)), default)).Should().Be(SecondFactorCheck.Totp);
        (await _twoFactor.VerifyAsync("alice", "12345", default)).Should().Be(SecondFactorCheck.Invalid);
        (await _twoFactor.VerifyAsync("alice", new string('7', 5000), default)).Should().Be(SecondFactorCheck.Invalid);
    }

    [Fact]
    public async Task ARecoveryCode_WorksOnce_InAnySpellingOfCaseAndDashes()
    {
        var setup = TwoFactor.NewSetup("alice", "PrivateServer");
        var codes = (await _twoFactor.EnrolAsync("alice", setup.Secret, Code(setup.Secret), null, default))!;

        (await _twoFactor.VerifyAsync("alice", codes[3].ToLowerInvariant().Replace("-", " ", StringComparison.Ordinal), default)).Should().Be(SecondFactorCheck.RecoveryCode);
        (await _twoFactor.VerifyAsync("alice", codes[3], default)).Should().Be(SecondFactorCheck.Invalid, "each recovery code works once");
        (await _users.FindAsync("alice", default))!.TwoFactor!.RecoveryCodeHashes.Should().HaveCount(9);

        var renewed = (await _twoFactor.NewRecoveryCodesAsync("alice", null, default))!;
        (await _twoFactor.VerifyAsync("alice", codes[4], default)).Should().Be(SecondFactorCheck.Invalid, "new codes replace the old");
        (await _twoFactor.VerifyAsync("alice", renewed[0], default)).Should().Be(SecondFactorCheck.RecoveryCode);
    }

    [Fact]
    public async Task SignIn_WithASecondFactor_WantsTheCode_AndAWrongCodeCountsAsAFailedSignIn()
    {
        var secret = await EnrolAsync("alice");
        _clock.Advance(TimeSpan.FromMinutes(1));

        var first = await _login.SignInAsync("alice", Password, Office, default);
        first.User.Should().BeNull("the password alone does not sign in");
        first.SecondFactor!.Step.Should().Be(SecondFactorStep.Code);
        (await _login.SignInAsync("alice", "wrong-password-123", "123456", Office, default)).SecondFactor.Should().BeNull("a wrong password gets no further");

        var credential = LoginService.Credential(first.SecondFactor.User);
        for (var i = 0; i < 9; i++)
        {
            var wrong = await _login.SecondStepAsync("alice", credential, WrongCode(secret), Office, default);
            wrong.User.Should().BeNull();
            _clock.Advance(TimeSpan.FromSeconds(20));
        }

        var blocked = await _login.SecondStepAsync("alice", credential, Code(secret), Office, default);
        blocked.User.Should().BeNull("ten wrong codes block like ten wrong passwords");
        blocked.WaitFor.Should().NotBeNull();

        _clock.Advance(LoginThrottle.BlockTime);
        (await _login.SecondStepAsync("alice", credential, Code(secret), Office, default)).User!.Name.Should().Be("alice");
        (await _login.SignInAsync("alice", Password, Code(secret), Office, default)).User.Should().BeNull("the code was used");
        _clock.Advance(TimeSpan.FromSeconds(30));
        (await _login.SignInAsync("alice", Password, Code(secret), Office, default)).User!.Name.Should().Be("alice", "password and code at once (the supporter module)");
    }

    [Fact]
    public async Task SecondStep_AfterAnAdminResetTheSecondFactor_SendsToSetUp_NotToEndlessWrongCodes()
    {
        var secret = await EnrolAsync("root");
        _clock.Advance(TimeSpan.FromMinutes(1));
        var first = await _login.SignInAsync("root", Password, Office, default);
        await _twoFactor.RemoveAsync("root", null, null, default);

        var second = await _login.SecondStepAsync("root", LoginService.Credential(first.SecondFactor!.User), Code(secret), Office, default);

        second.User.Should().BeNull();
        second.SecondFactor!.Step.Should().Be(SecondFactorStep.Enrol, "admins must have one here, and the old one is gone");
    }

    [Fact]
    public async Task SecondStep_AfterThePasswordChanged_StartsOver()
    {
        var secret = await EnrolAsync("alice");
        _clock.Advance(TimeSpan.FromMinutes(1));
        var first = await _login.SignInAsync("alice", Password, Office, default);
        var user = (await _users.FindAsync("alice", default))!;
        await _users.UpdateAsync(user with { PasswordHash = new PasswordService().Hash("Another-Password-2026") }, default);

        var second = await _login.SecondStepAsync("alice", LoginService.Credential(first.SecondFactor!.User), Code(secret), Office, default);

        second.User.Should().BeNull();
        second.SecondFactor.Should().BeNull("the pending sign-in is void");
    }

    [Fact]
    public async Task Required_ByRole_OrByGroup_SendsAUserWithoutOneToSetUp_AndOthersSignInWithThePassword()
    {
        (await _login.SignInAsync("root", Password, Office, default)).SecondFactor!.Step.Should().Be(SecondFactorStep.Enrol, "admins need one here");
        (await _login.SignInAsync("alice", Password, Office, default)).User!.Name.Should().Be("alice");

        var groups = new LiteDbGroupStore(_temp.Database);
        await groups.TryAddAsync(new Group("Finance", UnattendedConsent.Ask, _clock.GetUtcNow()) { RequireTwoFactor = true }, default);
        var alice = (await _users.FindAsync("alice", default))!;
        await _users.UpdateAsync(alice with { Groups = ["Finance"] }, default);
        (await _login.SignInAsync("alice", Password, Office, default)).SecondFactor!.Step.Should().Be(SecondFactorStep.Enrol, "her group requires it");

        var setup = TwoFactor.NewSetup("alice", "PrivateServer");
        var credential = LoginService.Credential(alice);
        var (refused, none) = await _login.EnrolAsync("alice", credential, setup.Secret, WrongCode(setup.Secret), Office, default);
        (refused.User, none).Should().Be((null, null));
        var (outcome, codes) = await _login.EnrolAsync("alice", credential, setup.Secret, Code(setup.Secret), Office, default);
        outcome.User!.Name.Should().Be("alice");
        codes.Should().HaveCount(10);
    }

    [Theory]
    [InlineData("admin", new[] { Role.Admin })]
    [InlineData(" Admin , supporter ", new[] { Role.Admin, Role.Supporter })]
    [InlineData("none", new Role[0])]
    [InlineData("", new Role[0])]
    public void RequiredRoles_Parse(string setting, Role[] roles) =>
        TwoFactor.ParseRoles(setting).Should().BeEquivalentTo(roles);

    [Theory]
    [InlineData("admins")]
    [InlineData("root")]
    [InlineData("1")]
    public void RequiredRoles_ATypo_IsRefused_NotIgnored(string setting) =>
        TwoFactor.TryParseRoles(setting, out _).Should().BeFalse();

    private void Use(string requiredFor)
    {
        (_login, _twoFactor, _) = TestSignIn.Create(_temp.Database, TestAudit.Trail(_temp.Database, _clock), _clock, requiredFor);
    }

    private async Task AddAsync(string name, Role role) =>
        await new LiteDbUserStore(_temp.Database).TryAddAsync(
            new User(name, role, [], null, new PasswordService().Hash(Password), Disabled: false, _clock.GetUtcNow()), default);

    private async Task<string> EnrolAsync(string name)
    {
        var setup = TwoFactor.NewSetup(name, "PrivateServer");
        (await _twoFactor.EnrolAsync(name, setup.Secret, Code(setup.Secret), null, default)).Should().NotBeNull();
        return setup.Secret;
    }

    private string Code(string secret, TimeSpan? offset = null) =>
        new Totp(Base32Encoding.ToBytes(secret)).ComputeTotp((_clock.GetUtcNow() + (offset ?? TimeSpan.Zero)).UtcDateTime);

    /// <summary>A code that is valid for none of the three steps around now.</summary>
    private string WrongCode(string secret)
    {
        var valid = new[] { -30, 0, 30 }.Select(s => Code(secret, TimeSpan.FromSeconds(s))).ToHashSet();
        return Enumerable.Range(0, 10).Select(i => $"{i}{i}{i}{i}{i}{i}").First(c => !valid.Contains(c));
    }
}
