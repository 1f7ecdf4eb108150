using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using PrivateServer.Server.Admin;

namespace PrivateServer.Server.Web.Pages.Admin;

/// <summary>Users: create (the appliance picks the first password, shown once, or the user gets an invitation by mail), role, groups, e-mail, disable, reset password, invite again.</summary>
public sealed class AdminUsersModel(AccountAdministration accounts, IApplianceAdministration administration) : AdminPage
{
    public IReadOnlyList<UserView> Users { get; private set; } = [];

    /// <summary>Account names and source addresses slowed down or blocked after failed sign-ins.</summary>
    public IReadOnlyList<LoginLockView> Locks { get; private set; } = [];

    public IReadOnlyList<string> GroupNames { get; private set; } = [];

    public Task OnGetAsync(CancellationToken cancellationToken) => LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostAddAsync(string name, string role, string[]? groups, string? email, bool invite, CancellationToken cancellationToken)
    {
        var outcome = await accounts.AddUserAsync(
            new AddUserRequest(
                name, role, groups ?? [], string.IsNullOrWhiteSpace(email) ? null : email.Trim(), Password: null, invite, CultureInfo.CurrentUICulture.TwoLetterISOLanguageName),
            cancellationToken);
        if (Apply(outcome, invite ? "UserInvited" : "UserAdded", name))
        {
            Secret = outcome.Value!.GeneratedPassword;
        }

        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostUpdateAsync(string name, string role, string[]? groups, string? email, CancellationToken cancellationToken)
    {
        Apply(await accounts.UpdateUserAsync(new UpdateUserRequest(name, role, groups ?? [], email ?? string.Empty, Disabled: null), cancellationToken), "UserSaved", name);
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostEnableAsync(string name, bool enabled, CancellationToken cancellationToken)
    {
        Apply(
            await accounts.UpdateUserAsync(new UpdateUserRequest(name, null, null, null, Disabled: !enabled), cancellationToken),
            enabled ? "UserEnabled" : "UserDisabled",
            name);
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostInviteAsync(string name, CancellationToken cancellationToken)
    {
        Apply(
            await accounts.InviteUserAsync(new InviteUserRequest(name, CultureInfo.CurrentUICulture.TwoLetterISOLanguageName), cancellationToken), "UserInvited", name);
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostResetAsync(string name, CancellationToken cancellationToken)
    {
        var outcome = await accounts.ResetPasswordAsync(name, cancellationToken);
        if (Apply(outcome, "PasswordReset", name))
        {
            Secret = outcome.Value!.GeneratedPassword;
        }

        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostResetTwoFactorAsync(string name, CancellationToken cancellationToken)
    {
        Apply(await accounts.ResetTwoFactorAsync(name, cancellationToken), "TwoFactorReset", name);
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostUnlockAsync(string subject, CancellationToken cancellationToken)
    {
        Apply(await administration.UnlockLoginAsync(subject ?? string.Empty, cancellationToken), "LoginUnlocked", subject ?? string.Empty);
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        Users = await accounts.ListUsersAsync(cancellationToken);
        Locks = await administration.ListLoginLocksAsync(cancellationToken);
        GroupNames = (await accounts.ListGroupsAsync(cancellationToken)).Select(g => g.Name).ToList();
    }
}
