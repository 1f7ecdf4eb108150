using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tests.Auth;

public sealed class NetworkRulesTests : IAsyncLifetime, IDisposable
{
    private TempDatabase _temp = null!;

    public async Task InitializeAsync() => _temp = await TempDatabase.OpenAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("10.1.0.0/24", "10.1.0.77", true)]
    [InlineData("10.1.0.0/24", "10.1.1.1", false)]
    [InlineData("10.1.0.0/24", "::ffff:10.1.0.9", true)]
    [InlineData("192.168.5.7", "192.168.5.7", true)]
    [InlineData("192.168.5.7", "192.168.5.8", false)]
    [InlineData("fd00::/8, 10.0.0.0/8", "fd12::1", true)]
    [InlineData("fd00::/8; 10.0.0.0/8", "2001:db8::1", false)]
    public void Lists_MatchAddressesAndNetworks(string list, string address, bool inside)
    {
        NetworkList.TryParse(list, out var networks, out var problem).Should().BeTrue(problem);
        NetworkList.Contains(networks, IPAddress.Parse(address)).Should().Be(inside);
    }

    [Theory]
    [InlineData("10.1.0.0/33", "'10.1.0.0/33' is not an address or network")]
    [InlineData("10.1.0.1/24", "'10.1.0.1/24' has host bits set; the network is 10.1.0.0/24")]
    [InlineData("10.1", "'10.1' is not an address or network")]
    [InlineData("fe80::1%eth0", "'fe80::1%eth0' is not an address or network")]
    [InlineData("10.0.0.0/", "'10.0.0.0/' is not an address or network")]
    [InlineData("192.168.010.0/24", "'192.168.010.0/24' is not an address or network")]
    [InlineData("::ffff:10.0.0.0/104", "'::ffff:10.0.0.0/104' is an IPv4 network written as IPv6; write it as IPv4")]
    [InlineData("intranet", "'intranet' is not an address or network")]
    public void Lists_NameTheEntryThatIsNotANetwork(string list, string problem)
    {
        NetworkList.TryParse(list, out _, out var said).Should().BeFalse();
        said.Should().StartWith(problem);
    }

    [Fact]
    public void Settings_AnUnknownRoleOrAMistypedNetwork_StopTheStart()
    {
        NetworkRules.Validate(new NetworkOptions { SignInFrom = { ["admins"] = "10.0.0.0/8" } }, out var role).Should().BeFalse();
        role.Should().Contain("there is no role 'admins'");
        NetworkRules.Validate(new NetworkOptions { SignInFrom = { ["admin"] = "10.0.0/8" } }, out var network).Should().BeFalse();
        network.Should().Contain("'10.0.0/8' is not an address or network");
        NetworkRules.Validate(new NetworkOptions { TrustedProxies = "proxy.internal" }, out var proxy).Should().BeFalse();
        proxy.Should().StartWith("Network:TrustedProxies:");
        NetworkRules.Validate(new NetworkOptions { SignInFrom = { ["Admin"] = "10.0.0.0/8", ["auditor"] = string.Empty }, TrustedProxies = "10.9.0.1, 10.9.1.0/24" }, out _).Should().BeTrue();
    }

    [Fact]
    public async Task EveryRuleThatApplies_MustAllowTheAddress_RoleFromSettings_GroupsFromPolicy()
    {
        var groups = new LiteDbGroupStore(_temp.Database);
        var now = DateTimeOffset.UtcNow;
        await groups.TryAddAsync(new Group("branch", UnattendedConsent.Ask, now) { SignInFrom = ["10.2.0.0/16"], HostsFrom = ["10.3.0.0/16"] }, default);
        await groups.TryAddAsync(new Group("open", UnattendedConsent.Ask, now), default);
        var rules = new NetworkRules(groups, Options.Create(new NetworkOptions { SignInFrom = { ["admin"] = "10.1.0.0/24" } }), NullLogger<NetworkRules>.Instance);
        var admin = new User("root", Role.Admin, [], null, "x", false, now);
        var branchSupporter = new User("bob", Role.Supporter, ["open", "branch"], null, "x", false, now);
        var openSupporter = new User("carol", Role.Supporter, ["open"], null, "x", false, now);

        (await rules.SignInRefusalAsync(admin, IPAddress.Parse("10.1.0.5"), default)).Should().BeNull();
        (await rules.SignInRefusalAsync(admin, IPAddress.Parse("10.2.0.5"), default)).Should().Be("10.2.0.5 is outside the networks role admin may come from (10.1.0.0/24)");
        (await rules.SignInRefusalAsync(admin, null, default)).Should().BeNull("the local admin socket is no network");
        (await rules.SignInRefusalAsync(branchSupporter, IPAddress.Parse("10.2.9.9"), default)).Should().BeNull();
        (await rules.SignInRefusalAsync(branchSupporter, IPAddress.Parse("10.1.0.5"), default)).Should().Contain("group branch");
        (await rules.SignInRefusalAsync(openSupporter, IPAddress.Parse("203.0.113.9"), default)).Should().BeNull("no rule applies to her");
        (await rules.HostRefusalAsync("branch", IPAddress.Parse("10.3.1.1"), default)).Should().BeNull();
        (await rules.HostRefusalAsync("branch", IPAddress.Parse("10.2.1.1"), default)).Should().Contain("the hosts of group branch");
        (await rules.HostRefusalAsync("open", IPAddress.Parse("10.2.1.1"), default)).Should().BeNull();
    }

    [Fact]
    public async Task SignIn_WithTheRightPasswordFromOutside_IsAnsweredLikeAWrongOne_AndCounted()
    {
        await new LiteDbUserStore(_temp.Database).TryAddAsync(
            new User("root", Role.Admin, [], null, new PasswordService().Hash("Right-Password-2026"), false, DateTimeOffset.UtcNow), default);
        var clock = ManualClock.Monday();
        var (login, twoFactor, throttle) = TestSignIn.Create(
            _temp.Database, TestAudit.Trail(_temp.Database, clock), clock, networkOptions: new NetworkOptions { SignInFrom = { ["admin"] = "10.1.0.0/24" } });
        using var _ = twoFactor;

        var outside = await login.SignInAsync("root", "Right-Password-2026", IPAddress.Parse("10.2.0.5"), default);
        for (var i = 0; i < LoginThrottle.FreeFailures - 1; i++)
        {
            await login.SignInAsync("root", "Right-Password-2026", IPAddress.Parse("10.2.0.5"), default);
        }

        clock.Advance(TimeSpan.FromSeconds(2));
        var inside = await login.SignInAsync("root", "Right-Password-2026", IPAddress.Parse("10.1.0.5"), default);

        (outside.User, outside.SecondFactor, outside.WaitFor).Should().Be((null, null, null), "nothing tells the outside that the password was right");
        inside.User!.Name.Should().Be("root");
        throttle.Check("anyone", IPAddress.Parse("10.2.0.5")).WaitFor.Should().BeNull("five failures are free");
        await login.SignInAsync("root", "Right-Password-2026", IPAddress.Parse("10.2.0.5"), default);
        throttle.Check("anyone", IPAddress.Parse("10.2.0.5")).WaitFor.Should().Be(TimeSpan.FromSeconds(2), "each counted as a failed sign-in of that address: this was the sixth");
    }
}
