using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using PrivateServer.Server.Mail;

namespace PrivateServer.Server.Web.Pages.Admin;

/// <summary>The smarthost settings in force, the outbox with each mail's last delivery error, a test mail and "send again".</summary>
public sealed class AdminMailModel(Mailer mailer, IOptionsMonitor<MailOptions> options) : AdminPage
{
    public MailOptions Settings => options.CurrentValue;

    public string? Blocked => mailer.Blocked;

    public IReadOnlyList<OutboxMail> Mails { get; private set; } = [];

    /// <summary>The newest delivery error of mail still waiting or given up, if any.</summary>
    public OutboxMail? LastProblem => Mails.Where(m => m.State != MailState.Sent && m.LastError is not null).MaxBy(m => m.LastAttemptAt);

    public Task OnGetAsync(CancellationToken cancellationToken) => LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostTestAsync(string? to, string? language, CancellationToken cancellationToken)
    {
        Apply(await mailer.QueueTestAsync(to ?? string.Empty, language, cancellationToken), "MailTestQueued", to ?? string.Empty);
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostRetryAsync(string id, CancellationToken cancellationToken)
    {
        Apply(await mailer.RetryAsync(id, cancellationToken), "MailRetried", id);
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken) => Mails = await mailer.ListAsync(includeSent: true, cancellationToken);
}
