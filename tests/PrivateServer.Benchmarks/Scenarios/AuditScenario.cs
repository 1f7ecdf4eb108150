using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using PrivateServer.Benchmarks.Report;
using PrivateServer.Certs.Issuance;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Broker;
using PrivateServer.Server.Setup;
using PrivateServer.Server.Storage;

namespace PrivateServer.Benchmarks.Scenarios;

/// <summary>
/// The audit trail's own speed, in process on a real (encrypted) data folder: chained appends per second
/// against plain inserts of a session record into the same database in the same run, and how fast
/// <c>audit verify</c> walks the chain.
/// </summary>
internal static class AuditScenario
{
    private const int Events = 5_000;
    private const int WarmUp = 200;

    public static async Task RunAsync(BenchReport report, CancellationToken cancellationToken)
    {
        var root = Path.Combine(Path.GetTempPath(), "ps-bench-audit-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var folder = new DataFolder(root);
            await new ApplianceInitializer(TimeProvider.System).InitialiseAsync(
                folder, new InitRequest([SubjectName.Parse("bench.internal")], "admin", "Bench-Password-2026"), cancellationToken);
            using var database = ApplianceDatabase.Open(folder);
            await using var services = new ServiceCollection()
                .AddLogging()
                .AddSingleton(TimeProvider.System)
                .AddStorage(folder, database)
                .AddAudit()
                .BuildServiceProvider();
            var trail = services.GetRequiredService<AuditTrail>();
            var sessions = services.GetRequiredService<ISessionLog>();

            await AppendAsync(trail, WarmUp, cancellationToken);
            await InsertAsync(sessions, "warm", WarmUp, cancellationToken);
            var plain = Stopwatch.StartNew();
            await InsertAsync(sessions, "run", Events, cancellationToken);
            plain.Stop();
            var chained = Stopwatch.StartNew();
            await AppendAsync(trail, Events, cancellationToken);
            chained.Stop();
            var walk = Stopwatch.StartNew();
            var verified = await trail.VerifyAsync(cancellationToken);
            walk.Stop();

            var appendRate = Events / chained.Elapsed.TotalSeconds;
            var insertRate = Events / plain.Elapsed.TotalSeconds;
            var verifyRate = verified.Verified / walk.Elapsed.TotalSeconds;
            Console.Error.WriteLine(string.Create(
                CultureInfo.InvariantCulture, $"  audit: {appendRate:F0} appends/s, plain inserts {insertRate:F0}/s, verify {verifyRate:F0} events/s ({verified.Verified} events, intact {verified.Intact})"));
            report.Row(
                string.Create(CultureInfo.InvariantCulture, $"Audit trail: chained appends per second ({Events:N0} events, encrypted LiteDB) · verify"),
                string.Create(CultureInfo.InvariantCulture, $"{appendRate:N0}/s · verify {verifyRate:N0} events/s"),
                string.Create(CultureInfo.InvariantCulture, $"plain insert of a session record {insertRate:N0}/s"),
                string.Create(CultureInfo.InvariantCulture, $"{appendRate / insertRate:F2}× plain insert"),
                "(reported)",
                null);
            report.Data("audit", new { events = Events, appendsPerSecond = appendRate, insertsPerSecond = insertRate, verifyEventsPerSecond = verifyRate });
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    private static async Task AppendAsync(AuditTrail trail, int count, CancellationToken cancellationToken)
    {
        for (var i = 0; i < count; i++)
        {
            await trail.RecordAsync(
                "alice", "session.requested", "pc-01", "se-" + i.ToString(CultureInfo.InvariantCulture), "192.0.2.7",
                new Dictionary<string, string> { ["permissions"] = "view control tunnel:screen", ["via"] = "enrolled" }, cancellationToken);
        }
    }

    private static async Task InsertAsync(ISessionLog sessions, string prefix, int count, CancellationToken cancellationToken)
    {
        for (var i = 0; i < count; i++)
        {
            await sessions.AddAsync(
                new SessionRecord($"se-{prefix}-{i}", "alice", "h-1", "pc-01", "enrolled", ["view", "control", "tunnel:screen"], DateTimeOffset.UtcNow),
                cancellationToken);
        }
    }
}
