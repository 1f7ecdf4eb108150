using System.CommandLine;
using System.Globalization;
using PrivateServer.Server.Admin;

namespace PrivateServer.Appliance.Cli;

/// <summary><c>privateserver mail queue|retry|test</c>: the durable outbox towards the company's smarthost.</summary>
internal static class MailVerbs
{
    public static Command Create(CliContext context) => new("mail", "The mail outbox (delivered to the smarthost of Mail:Host).")
    {
        Queue(context),
        Retry(context),
        Test(context),
    };

    private static Command Queue(CliContext context)
    {
        var all = new Option<bool>("--all") { Description = "Also list mail already sent." };
        var command = new Command("queue", "Lists queued, failed (and with --all sent) mail, newest first: id, state, attempts, queued at, to, subject, last error.")
        {
            all,
        };
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var queue = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse), context.Configuration(parse), (administration, token) => administration.ListMailAsync(parse.GetValue(all), token), cancellationToken);
            foreach (var mail in queue.Mails)
            {
                context.Out.WriteLine(string.Join(
                    '\t', mail.Id, mail.State, mail.Attempts.ToString(CultureInfo.InvariantCulture), mail.CreatedAt.ToString("u", CultureInfo.InvariantCulture),
                    mail.To, mail.Subject, mail.LastError ?? "-"));
            }

            if (queue.Blocked is { } blocked && queue.Mails.Any(m => m.State is "queued" or "sending"))
            {
                context.Error.WriteLine($"Mail waits: {blocked}.");
            }

            return 0;
        });
        return command;
    }

    private static Command Retry(CliContext context)
    {
        var id = new Argument<string>("ID") { Description = "The mail's id (from 'mail queue')." };
        var command = new Command("retry", "Sends a queued or failed mail again now, with a fresh retry window.") { id };
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var mail = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse), context.Configuration(parse),
                async (administration, token) => AdminAccess.Unwrap(await administration.RetryMailAsync(parse.GetValue(id)!, token)), cancellationToken);
            context.Error.WriteLine($"Mail {mail.Id} to {mail.To} is queued for an attempt now.");
            return 0;
        });
        return command;
    }

    private static Command Test(CliContext context)
    {
        var to = new Option<string>("--to") { Description = "Where the test mail goes.", HelpName = "ADDR", Required = true };
        var language = new Option<string?>("--language") { Description = "de or en (default en).", HelpName = "de|en" };
        language.AcceptOnlyFromAmong("de", "en");
        var command = new Command("test", "Queues a test mail; 'mail queue' shows whether the smarthost took it.") { to, language };
        context.SetAction(command, async (parse, cancellationToken) =>
        {
            var request = new TestMailRequest(parse.GetValue(to)!, parse.GetValue(language));
            var mail = await AdminAccess.WithAdministrationAsync(
                context.DataFolder(parse), context.Configuration(parse),
                async (administration, token) => AdminAccess.Unwrap(await administration.QueueTestMailAsync(request, token)), cancellationToken);
            context.Error.WriteLine($"Test mail {mail.Id} to {mail.To} is queued.");
            context.Out.WriteLine(mail.Id);
            return 0;
        });
        return command;
    }
}
