namespace PrivateServer.IntegrationTests.Infrastructure;

/// <summary>Every integration test has a deadline; nothing waits forever.</summary>
public static class TestDeadline
{
    public static CancellationTokenSource Start(int seconds = 120) => new(TimeSpan.FromSeconds(seconds));
}
