using System.Net;
using PrivateServer.Server.Auth;

namespace PrivateServer.Server.Tests.Auth;

public sealed class LoginThrottleTests
{
    private static readonly IPAddress Attacker = IPAddress.Parse("10.0.0.66");
    private static readonly IPAddress Office = IPAddress.Parse("10.0.0.7");

    [Fact]
    public void FiveFailures_AreFree_ThenEachAttemptWaitsTwiceAsLong()
    {
        var clock = ManualClock.Monday();
        var throttle = new LoginThrottle(clock);

        for (var i = 0; i < 5; i++)
        {
            throttle.Check("alice", Office).WaitFor.Should().BeNull($"failure {i + 1} is free");
            throttle.Failed("alice", Office);
        }

        var elsewhere = IPAddress.Parse("10.0.0.8");
        throttle.Check("alice", elsewhere).WaitFor.Should().Be(TimeSpan.FromSeconds(1), "the name waits, from any address");
        clock.Advance(TimeSpan.FromSeconds(1));
        throttle.Check("alice", Office).WaitFor.Should().BeNull();
        throttle.Failed("alice", Office);
        throttle.Check("alice", Office).WaitFor.Should().Be(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void TheTenthFailure_BlocksForFifteenMinutes_AndTheBlockEnds()
    {
        var clock = ManualClock.Monday();
        var throttle = new LoginThrottle(clock);
        var blocked = false;

        for (var i = 0; i < 10; i++)
        {
            clock.Advance(TimeSpan.FromMinutes(1));
            throttle.Check(null, Attacker).WaitFor.Should().BeNull();
            blocked = throttle.Failed("user" + i, Attacker);
        }

        var verdict = throttle.Check("someone-else", Attacker);
        clock.Advance(LoginThrottle.BlockTime);

        blocked.Should().BeTrue();
        verdict.Blocked.Should().BeTrue();
        verdict.WaitFor.Should().Be(LoginThrottle.BlockTime);
        throttle.Check("someone-else", Attacker).WaitFor.Should().BeNull("the block is over");
    }

    [Fact]
    public void AnAddressHammeringOneName_BlocksItself_WhileTheNamesOwnerGetsInFromElsewhereAfterTheShortDelay()
    {
        var clock = ManualClock.Monday();
        var throttle = new LoginThrottle(clock);
        var checkedPasswords = 0;

        for (var i = 0; i < 1000; i++)
        {
            if (throttle.Check("alice", Attacker).WaitFor is null)
            {
                checkedPasswords++;
                throttle.Failed("alice", Attacker);
            }
        }

        var attacker = throttle.Check("alice", Attacker);
        clock.Advance(TimeSpan.FromSeconds(1));
        var owner = throttle.Check("alice", Office);

        checkedPasswords.Should().Be(5, "after five the address is told to wait, and knocking on blocks it");
        attacker.Blocked.Should().BeTrue();
        attacker.BlockStarted.Should().BeFalse("the block started earlier, once");
        owner.WaitFor.Should().BeNull();
        throttle.Locks().Should().Contain(l => l.Kind == LoginThrottle.AddressKind && l.Subject == "10.0.0.66" && l.BlockedUntil != null)
            .And.Contain(l => l.Kind == LoginThrottle.AccountKind && l.Subject == "alice" && l.BlockedUntil == null);
    }

    [Fact]
    public void UnknownAndKnownNames_AreTreatedAlike_AndASuccessClearsTheName()
    {
        var clock = ManualClock.Monday();
        var throttle = new LoginThrottle(clock);
        for (var i = 0; i < 5; i++)
        {
            throttle.Failed("nobody-has-this-name", IPAddress.Parse($"10.1.0.{i}"));
            throttle.Failed("alice", IPAddress.Parse($"10.2.0.{i}"));
        }

        var unknown = throttle.Check("nobody-has-this-name", Office);
        var known = throttle.Check("ALICE", Office);
        throttle.Succeeded("alice");

        unknown.Should().Be(known);
        throttle.Check("alice", Office).WaitFor.Should().BeNull();
    }

    [Fact]
    public void Unlock_LiftsABlockByNameOrAddress_AndSaysWhenThereIsNone()
    {
        var clock = ManualClock.Monday();
        var throttle = new LoginThrottle(clock);
        for (var i = 0; i < 10; i++)
        {
            clock.Advance(TimeSpan.FromMinutes(1));
            throttle.Failed("bob", IPAddress.Parse($"10.3.0.{i}"));
        }

        throttle.Check("bob", Office).Blocked.Should().BeTrue();
        throttle.Unlock("Bob").Should().BeTrue();
        throttle.Check("bob", Office).WaitFor.Should().BeNull();
        throttle.Unlock("bob").Should().BeFalse();
        throttle.Unlock("10.3.0.9").Should().BeTrue("its address had failures too");
    }

    [Fact]
    public void FailuresAreForgotten_FifteenMinutesAfterTheLastOne()
    {
        var clock = ManualClock.Monday();
        var throttle = new LoginThrottle(clock);
        for (var i = 0; i < 6; i++)
        {
            clock.Advance(TimeSpan.FromMinutes(1));
            throttle.Failed("carol", Office);
        }

        clock.Advance(TimeSpan.FromMinutes(16));

        throttle.Check("carol", Office).WaitFor.Should().BeNull();
        throttle.Locks().Should().BeEmpty();
    }

    [Fact]
    public void AnIPv6Prefix_CountsAsOneAddress()
    {
        var clock = ManualClock.Monday();
        var throttle = new LoginThrottle(clock);
        for (var i = 1; i <= 10; i++)
        {
            clock.Advance(TimeSpan.FromMinutes(1));
            throttle.Failed("user" + i, IPAddress.Parse($"2001:db8:1:2::{i:x}"));
        }

        throttle.Check("someone", IPAddress.Parse("2001:db8:1:2:ffff::1")).Blocked.Should().BeTrue();
        throttle.Check("someone", IPAddress.Parse("2001:db8:1:3::1")).WaitFor.Should().BeNull("another /64");
        throttle.Unlock("2001:db8:1:2::/64").Should().BeTrue();
    }
}
