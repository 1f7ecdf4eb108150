using Microsoft.Extensions.Logging.Abstractions;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tests;

/// <summary>The real audit trail over a test's database, for services that record to it.</summary>
internal static class TestAudit
{
    public static AuditTrail Trail(ApplianceDatabase database, TimeProvider? clock = null) =>
        new(new LiteDbAuditLog(database), clock ?? TimeProvider.System, NullLogger<AuditTrail>.Instance);
}
