using Microsoft.AspNetCore.Mvc;
using PrivateServer.Server.Mail;

namespace PrivateServer.Server.Web.Pages.Admin;

/// <summary>The smarthost settings in force, the outbox with each mail's last delivery error, a test mail and "send again".</summary>
public sealed class AdminMailModel(Mailer mailer, MailSettings mailSettings) : AdminPage
{
    public EffectiveMailSettings Settings { get; private set; } = null!;

    public string? Blocked => Settings.Missing;

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

    public async Task<IActionResult> OnPostSettingsAsync(
        string? host, int port, string? security, string? user, string? password, string? from, string? trust, string? caPem, CancellationToken cancellationToken)
    {
        Apply(
            await mailSettings.UpdateAsync(new MailSettingsChange(host, port, security, user, password, from, trust, caPem), cancellationToken),
            "MailSettingsSaved", host ?? string.Empty);
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostResetSettingsAsync(CancellationToken cancellationToken)
    {
        await mailSettings.ResetAsync(cancellationToken);
        Done = ("MailSettingsReset", string.Empty);
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        Settings = await mailSettings.CurrentAsync(cancellationToken);
        Mails = await mailer.ListAsync(includeSent: true, cancellationToken);
    }
}
