using PrivateServer.Protocol.Control;

namespace PrivateServer.Protocol.Tests.Control;

public sealed class SilenceWatchdogTests
{
    [Fact]
    public async Task Arm_WhenThePeerStaysSilent_CancelsAfterTheLimit()
    {
        using var watchdog = new SilenceWatchdog(CancellationToken.None);

        var token = watchdog.Arm(TimeSpan.FromMilliseconds(50));
        var waited = () => Task.Delay(TimeSpan.FromSeconds(10), token);

        await waited.Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task Arm_AfterItFiredWhileNobodyWaited_GivesAFreshUncancelledToken()
    {
        using var watchdog = new SilenceWatchdog(CancellationToken.None);
        var first = watchdog.Arm(TimeSpan.FromMilliseconds(10));
        var fired = new TaskCompletionSource();
        using (first.Register(() => fired.TrySetResult()))
        {
            // Wait for the timer itself, not a fixed delay: on a loaded machine it may fire late.
            await fired.Task.WaitAsync(TimeSpan.FromSeconds(20));
        }

        var second = watchdog.Arm(TimeSpan.FromSeconds(30));

        first.IsCancellationRequested.Should().BeTrue();
        second.IsCancellationRequested.Should().BeFalse("a message handled after the deadline is not silence");
    }

    [Fact]
    public void Arm_WhenTheOuterTokenIsCancelled_IsCancelledToo()
    {
        using var outer = new CancellationTokenSource();
        using var watchdog = new SilenceWatchdog(outer.Token);

        outer.Cancel();

        watchdog.Arm(TimeSpan.FromSeconds(30)).IsCancellationRequested.Should().BeTrue();
    }
}
