using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using PrivateServer.Server.Mail;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tests;

/// <summary>The real mail queue over a test's database (nothing is sent: no sender runs).</summary>
internal static class TestMail
{
    public static MailSettings Settings(TempDatabase temp, TimeProvider clock, MailOptions? configured = null) =>
        new(
            new LiteDbMailSettingsStore(temp.Database), new StaticOptionsMonitor<MailOptions>(configured ?? new MailOptions()), new MailWakeup(),
            TestAudit.Trail(temp.Database, clock), clock, NullLogger<MailSettings>.Instance);

    public static Mailer Mailer(TempDatabase temp, TimeProvider clock, IDictionary<string, string?>? configuration = null) =>
        new(
            new LiteDbOutbox(temp.Database), new MailWakeup(),
            new PublicAddress(temp.Folder, new ConfigurationBuilder().AddInMemoryCollection(configuration ?? new Dictionary<string, string?>()).Build()),
            Settings(temp, clock), TestAudit.Trail(temp.Database, clock), clock, NullLogger<Mailer>.Instance);
}
