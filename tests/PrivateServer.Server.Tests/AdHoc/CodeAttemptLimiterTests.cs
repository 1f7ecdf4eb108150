using System.Net;
using PrivateServer.Server.AdHoc;

namespace PrivateServer.Server.Tests.AdHoc;

public sealed class CodeAttemptLimiterTests
{
    private static readonly IPAddress Attacker = IPAddress.Parse("192.0.2.7");
    private static readonly IPAddress Customer = IPAddress.Parse("192.0.2.8");

    private readonly ManualClock _clock = ManualClock.Monday();

    [Fact]
    public void Check_AfterFiveFailures_LetsAPatientAddressTryAfterDoublingDelaysThenBlocksIt()
    {
        var limiter = new CodeAttemptLimiter(_clock);
        var allowed = new List<bool>();
        for (var i = 0; i < 5; i++)
        {
            allowed.Add(limiter.Check(Attacker).Allowed);
            limiter.RecordFailure(Attacker);
        }

        foreach (var seconds in new[] { 1, 2, 4, 8, 16 })
        {
            _clock.Advance(TimeSpan.FromSeconds(seconds));
            allowed.Add(limiter.Check(Attacker).Allowed);
            limiter.RecordFailure(Attacker);
        }

        var blocked = limiter.Check(Attacker);

        allowed.Should().AllSatisfy(a => a.Should().BeTrue()).And.HaveCount(10);
        blocked.Should().Be(new AttemptVerdict(false, TimeSpan.FromMinutes(15), Blocked: true));
        limiter.Check(Customer).Allowed.Should().BeTrue("another address is not punished for this one");
    }

    [Fact]
    public void Check_WhenTheAddressHammersInsteadOfWaiting_BlocksItAfterTenTries()
    {
        var limiter = new CodeAttemptLimiter(_clock);
        var judged = 0;
        var answers = new List<AttemptVerdict>();

        for (var i = 0; i < 1000; i++)
        {
            var verdict = limiter.Check(Attacker);
            answers.Add(verdict);
            if (verdict.Allowed)
            {
                judged++;
                limiter.RecordFailure(Attacker);
            }
        }

        judged.Should().Be(5);
        answers[5].Should().Be(new AttemptVerdict(false, TimeSpan.FromSeconds(1), Blocked: false), "the sixth try must wait a second");
        limiter.Check(Attacker).Blocked.Should().BeTrue();
    }

    [Fact]
    public void Check_WhenTheBlockIsOver_AllowsAgainFromAFreshStart()
    {
        var limiter = new CodeAttemptLimiter(_clock);
        for (var i = 0; i < 10; i++)
        {
            limiter.RecordFailure(Attacker);
        }

        _clock.Advance(TimeSpan.FromMinutes(15));

        limiter.Check(Attacker).Allowed.Should().BeTrue();
    }

    [Fact]
    public void Check_FailuresOlderThanTheWindow_AreForgotten()
    {
        var limiter = new CodeAttemptLimiter(_clock);
        for (var i = 0; i < 5; i++)
        {
            limiter.RecordFailure(Attacker);
        }

        _clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));

        limiter.Check(Attacker).Allowed.Should().BeTrue();
    }

    [Fact]
    public void Check_ManyAddressesTogether_AreSlowedAndThenBlockedGlobally()
    {
        var limiter = new CodeAttemptLimiter(_clock);
        for (var i = 0; i < 50; i++)
        {
            limiter.RecordFailure(IPAddress.Parse($"198.51.100.{i}"));
        }

        var slowed = limiter.Check(Customer);
        for (var i = 50; i < 200; i++)
        {
            limiter.RecordFailure(IPAddress.Parse($"203.0.113.{i}"));
        }

        var blocked = limiter.Check(Customer);

        slowed.Should().Be(new AttemptVerdict(false, TimeSpan.FromSeconds(1), Blocked: false));
        blocked.Blocked.Should().BeTrue();
    }

    [Theory]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::ffff", true)]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:3::1", false)]
    [InlineData("::ffff:192.0.2.7", "192.0.2.7", true)]
    [InlineData("192.0.2.7", "192.0.2.8", false)]
    public void Key_CountsAnIpv6NetworkAsOneAddress(string first, string second, bool same)
    {
        (CodeAttemptLimiter.Key(IPAddress.Parse(first)) == CodeAttemptLimiter.Key(IPAddress.Parse(second))).Should().Be(same);
    }
}
