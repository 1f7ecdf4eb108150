using System.Globalization;
using Microsoft.Extensions.Logging;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Mail;

namespace PrivateServer.Server.Admin;

/// <summary>Creates and lists users and groups, validating everything before anything is written.</summary>
public sealed partial class AccountAdministration(
    IUserStore users,
    IGroupStore groups,
    PasswordService passwords,
    AuditTrail audit,
    TimeProvider time,
    ILogger<AccountAdministration> logger,
    PasswordLinks? links = null,
    UserRevocation? revocation = null,
    TwoFactor? twoFactor = null)
{
    public async Task<AdminOutcome<AddUserResponse>> AddUserAsync(AddUserRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!AccountName.IsValid(request.Name))
        {
            return AdminOutcome.Fail<AddUserResponse>(AdminFailureKind.Invalid, InvalidName("user", request.Name));
        }

        if (!Enum.TryParse<Role>(request.Role, ignoreCase: true, out var role) || !Enum.IsDefined(role))
        {
            return AdminOutcome.Fail<AddUserResponse>(AdminFailureKind.Invalid, $"unknown role '{request.Role}'; use admin, supporter or auditor");
        }

        var memberOf = new List<string>();
        foreach (var name in (request.Groups ?? []).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var group = AccountName.IsValid(name) ? await groups.FindAsync(name, cancellationToken) : null;
            if (group is null)
            {
                return AdminOutcome.Fail<AddUserResponse>(
                    AdminFailureKind.NotFound, $"group '{name}' does not exist; create it first with 'privateserver group add {name}'");
            }

            memberOf.Add(group.Name);
        }

        if (request.Email is { } email && !Mailer.IsAddress(email))
        {
            return AdminOutcome.Fail<AddUserResponse>(AdminFailureKind.Invalid, $"'{email}' is not an e-mail address");
        }

        if (request.Invite && (request.Email is null || request.Password is not null))
        {
            return AdminOutcome.Fail<AddUserResponse>(
                AdminFailureKind.Invalid, "an invitation goes by mail: give the user an e-mail address, and no password (the user chooses it)");
        }

        var generated = request.Password is null ? PasswordService.Generate() : null;
        var password = request.Password ?? generated!;
        if (PasswordService.PolicyViolation(password, request.Name) is { } violation)
        {
            return AdminOutcome.Fail<AddUserResponse>(AdminFailureKind.Invalid, violation);
        }

        var user = new User(request.Name, role, memberOf, request.Email, passwords.Hash(password), Disabled: false, time.GetUtcNow());
        // The user, the event that records it and (when invited) the link, the mail and its event: together or not at all.
        var change = new AtomicChange();
        change.NewUsers.Add(user);
        change.Audit.Add(audit.ChangeEntry(
            "user.added", user.Name, AuditTrail.Details(("role", RoleName(role)), ("groups", string.Join(' ', memberOf)), ("email", user.Email))));
        var invitation = request.Invite ? Links.Invitation(user, request.Language, change) : null;
        try
        {
            await audit.WriteAsync(change, CancellationToken.None);
        }
        catch (AtomicConflictException)
        {
            return AdminOutcome.Fail<AddUserResponse>(AdminFailureKind.Conflict, $"user '{request.Name}' already exists");
        }

        LogUserAdded(logger, user.Name, role);
        if (invitation is not null)
        {
            Links.Queued(invitation);
            return AdminOutcome.Success(new AddUserResponse(user.Name, RoleName(role), memberOf, null, invitation.Id));
        }

        return AdminOutcome.Success(new AddUserResponse(user.Name, RoleName(role), memberOf, generated));
    }

    /// <summary>Mails the user a new invitation (a set-password link; older ones stop working). The password stays until it is set.</summary>
    public async Task<AdminOutcome<AddUserResponse>> InviteUserAsync(InviteUserRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var user = AccountName.IsValid(request.Name) ? await users.FindAsync(request.Name, cancellationToken) : null;
        if (user is null)
        {
            return AdminOutcome.Fail<AddUserResponse>(AdminFailureKind.NotFound, $"no user '{request.Name}'");
        }

        if (user.Disabled || user.Email is null)
        {
            return AdminOutcome.Fail<AddUserResponse>(
                AdminFailureKind.Invalid, user.Disabled ? $"user '{user.Name}' is disabled" : $"user '{user.Name}' has no e-mail address");
        }

        var invitation = await Links.InviteAsync(user, request.Language, cancellationToken);
        return AdminOutcome.Success(new AddUserResponse(user.Name, RoleName(user.Role), user.Groups, null, invitation!.Id));
    }

    public async Task<IReadOnlyList<UserView>> ListUsersAsync(CancellationToken cancellationToken) =>
        (await users.ListAsync(cancellationToken))
            .Select(ToView)
            .ToList();

    public async Task<AdminOutcome<GroupView>> AddGroupAsync(AddGroupRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!AccountName.IsValid(request.Name))
        {
            return AdminOutcome.Fail<GroupView>(AdminFailureKind.Invalid, InvalidName("group", request.Name));
        }

        var consent = UnattendedConsent.Ask;
        if (request.UnattendedConsent is { } text
            && (!Enum.TryParse(text, ignoreCase: true, out consent) || !Enum.IsDefined(consent)))
        {
            return AdminOutcome.Fail<GroupView>(AdminFailureKind.Invalid, $"unknown unattended consent '{text}'; use ask or auto");
        }

        if (MaxFileSizeProblem(request.MaxFileSize) is { } tooBig)
        {
            return AdminOutcome.Fail<GroupView>(AdminFailureKind.Invalid, tooBig);
        }

        if (NetworksProblem(request.SignInFrom, request.HostsFrom, out var signInFrom, out var hostsFrom) is { } badNetwork)
        {
            return AdminOutcome.Fail<GroupView>(AdminFailureKind.Invalid, badNetwork);
        }

        var group = new Group(request.Name, consent, time.GetUtcNow())
        {
            Recording = request.Recording,
            RequireTwoFactor = request.RequireTwoFactor,
            SignInFrom = signInFrom,
            HostsFrom = hostsFrom,
            MaxFileSize = request.MaxFileSize ?? GroupFeatures.DefaultMaxFileSize,
        };
        var change = new AtomicChange();
        change.NewGroups.Add(group);
        try
        {
            await WriteAsync(
                change, "group.added", group.Name,
                AuditTrail.Details(
                    ("unattended-consent", consent.ToString().ToLowerInvariant()), ("recording", group.Recording ? "on" : "off"), ("two-factor", group.RequireTwoFactor ? "required" : "optional"),
                    ("sign-in-from", Networks(group.SignInFrom)), ("hosts-from", Networks(group.HostsFrom)),
                    ("max-file-size", group.MaxFileSize.ToString(CultureInfo.InvariantCulture))));
        }
        catch (AtomicConflictException)
        {
            return AdminOutcome.Fail<GroupView>(AdminFailureKind.Conflict, $"group '{request.Name}' already exists");
        }

        LogGroupAdded(logger, group.Name, consent);
        return AdminOutcome.Success(ToView(group));
    }

    public async Task<IReadOnlyList<GroupView>> ListGroupsAsync(CancellationToken cancellationToken) =>
        (await groups.ListAsync(cancellationToken)).Select(ToView).ToList();

    /// <summary>Changes role, groups, e-mail or the disabled flag; the last enabled admin can be neither disabled nor demoted.</summary>
    public async Task<AdminOutcome<UserView>> UpdateUserAsync(UpdateUserRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var user = AccountName.IsValid(request.Name) ? await users.FindAsync(request.Name, cancellationToken) : null;
        if (user is null)
        {
            return AdminOutcome.Fail<UserView>(AdminFailureKind.NotFound, $"no user '{request.Name}'");
        }

        var role = user.Role;
        if (request.Role is { } roleText && (!Enum.TryParse(roleText, ignoreCase: true, out role) || !Enum.IsDefined(role)))
        {
            return AdminOutcome.Fail<UserView>(AdminFailureKind.Invalid, $"unknown role '{request.Role}'; use admin, supporter or auditor");
        }

        var memberOf = user.Groups.ToList();
        if (request.Groups is not null)
        {
            memberOf.Clear();
            foreach (var name in request.Groups.Distinct(StringComparer.OrdinalIgnoreCase))
            {
                var group = AccountName.IsValid(name) ? await groups.FindAsync(name, cancellationToken) : null;
                if (group is null)
                {
                    return AdminOutcome.Fail<UserView>(AdminFailureKind.NotFound, $"group '{name}' does not exist");
                }

                memberOf.Add(group.Name);
            }
        }

        var email = request.Email is null ? user.Email : string.IsNullOrWhiteSpace(request.Email) ? null : request.Email.Trim();
        if (email is not null && !Mailer.IsAddress(email))
        {
            return AdminOutcome.Fail<UserView>(AdminFailureKind.Invalid, $"'{email}' is not an e-mail address");
        }

        var updated = user with { Role = role, Groups = memberOf, Email = email, Disabled = request.Disabled ?? user.Disabled };
        if (user is { Role: Role.Admin, Disabled: false } && (updated.Role != Role.Admin || updated.Disabled)
            && (await users.ListAsync(cancellationToken)).Count(u => u is { Role: Role.Admin, Disabled: false }) <= 1)
        {
            return AdminOutcome.Fail<UserView>(AdminFailureKind.Invalid, $"'{user.Name}' is the last enabled admin; make another admin first");
        }

        var change = new AtomicChange();
        // Only what the request changes: a password changed meanwhile (or another field) stays as stored.
        change.UserEdits.Add(new UserEdit(user.Name, stored => stored with
        {
            Role = request.Role is null ? stored.Role : role,
            Groups = request.Groups is null ? stored.Groups : memberOf,
            Email = request.Email is null ? stored.Email : email,
            Disabled = request.Disabled ?? stored.Disabled,
        }));
        await WriteAsync(
            change, "user.changed", updated.Name,
            AuditTrail.Details(
                ("role", RoleName(updated.Role)), ("groups", string.Join(' ', updated.Groups)), ("email", updated.Email),
                ("disabled", updated.Disabled ? "yes" : "no")));
        LogUserChanged(logger, updated.Name, updated.Role, updated.Disabled);
        if (revocation is not null && ((updated.Disabled && !user.Disabled) || updated.Role != user.Role))
        {
            await revocation.RevokeAsync(updated.Name, updated.Disabled && !user.Disabled ? "the account was disabled" : "the account's role changed", CancellationToken.None);
        }

        return AdminOutcome.Success(ToView(updated));
    }

    /// <summary>Signs a user out everywhere: every supporter-module token, every live session (audited).</summary>
    public async Task<AdminOutcome<UserView>> SignOutAsync(string name, CancellationToken cancellationToken)
    {
        var user = AccountName.IsValid(name) ? await users.FindAsync(name, cancellationToken) : null;
        if (user is null)
        {
            return AdminOutcome.Fail<UserView>(AdminFailureKind.NotFound, $"no user '{name}'");
        }

        if (revocation is not null)
        {
            await revocation.RevokeAsync(user.Name, "an admin signed the user out", CancellationToken.None);
        }

        return AdminOutcome.Success(ToView(user));
    }

    /// <summary>Removes a user's second factor (a lost phone and lost recovery codes); they set up a new one at their next sign-in if it is required.</summary>
    public async Task<AdminOutcome<UserView>> ResetTwoFactorAsync(string name, CancellationToken cancellationToken)
    {
        var user = AccountName.IsValid(name) ? await users.FindAsync(name, cancellationToken) : null;
        if (user is null)
        {
            return AdminOutcome.Fail<UserView>(AdminFailureKind.NotFound, $"no user '{name}'");
        }

        if (twoFactor is null || !await twoFactor.RemoveAsync(user.Name, null, null, CancellationToken.None))
        {
            return AdminOutcome.Fail<UserView>(AdminFailureKind.NotFound, $"'{user.Name}' has no two-factor sign-in set up");
        }

        return AdminOutcome.Success(ToView(user with { TwoFactor = null }));
    }

    /// <summary>Gives the user a new generated password, returned once.</summary>
    public async Task<AdminOutcome<AddUserResponse>> ResetPasswordAsync(string name, CancellationToken cancellationToken)
    {
        var user = AccountName.IsValid(name) ? await users.FindAsync(name, cancellationToken) : null;
        if (user is null)
        {
            return AdminOutcome.Fail<AddUserResponse>(AdminFailureKind.NotFound, $"no user '{name}'");
        }

        var password = PasswordService.Generate();
        var change = new AtomicChange();
        var hash = passwords.Hash(password);
        change.UserEdits.Add(new UserEdit(user.Name, stored => stored with { PasswordHash = hash }));
        await WriteAsync(change, "user.password-reset", user.Name, null);
        LogPasswordReset(logger, user.Name);
        if (revocation is not null)
        {
            await revocation.RevokeAsync(user.Name, "an admin reset the password", CancellationToken.None);
        }

        return AdminOutcome.Success(new AddUserResponse(user.Name, RoleName(user.Role), user.Groups, password));
    }

    /// <summary>Sets a group's policy: unattended consent, allowed features, recording.</summary>
    public async Task<AdminOutcome<GroupView>> UpdateGroupAsync(UpdateGroupRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var group = AccountName.IsValid(request.Name) ? await groups.FindAsync(request.Name, cancellationToken) : null;
        if (group is null)
        {
            return AdminOutcome.Fail<GroupView>(AdminFailureKind.NotFound, $"no group '{request.Name}'");
        }

        if (!Enum.TryParse<UnattendedConsent>(request.UnattendedConsent, ignoreCase: true, out var consent) || !Enum.IsDefined(consent))
        {
            return AdminOutcome.Fail<GroupView>(AdminFailureKind.Invalid, $"unknown unattended consent '{request.UnattendedConsent}'; use ask or auto");
        }

        var unknown = request.Features.FirstOrDefault(f => !GroupFeatures.All.Contains(f, StringComparer.Ordinal));
        if (unknown is not null)
        {
            return AdminOutcome.Fail<GroupView>(AdminFailureKind.Invalid, $"unknown feature '{unknown}'; use {string.Join(", ", GroupFeatures.All)}");
        }

        if (MaxFileSizeProblem(request.MaxFileSize) is { } tooBig)
        {
            return AdminOutcome.Fail<GroupView>(AdminFailureKind.Invalid, tooBig);
        }

        if (NetworksProblem(request.SignInFrom, request.HostsFrom, out var signInFrom, out var hostsFrom) is { } badNetwork)
        {
            return AdminOutcome.Fail<GroupView>(AdminFailureKind.Invalid, badNetwork);
        }

        var updated = group with
        {
            SignInFrom = signInFrom,
            HostsFrom = hostsFrom,
            MaxFileSize = request.MaxFileSize ?? group.MaxFileSize,
            UnattendedConsent = consent,
            Features = GroupFeatures.All.Where(f => request.Features.Contains(f, StringComparer.Ordinal)).ToList(),
            Recording = request.Recording,
            RequireTwoFactor = request.RequireTwoFactor,
        };
        var change = new AtomicChange();
        change.ChangedGroups.Add(updated);
        await WriteAsync(
            change, "group.policy-changed", updated.Name,
            AuditTrail.Details(
                ("unattended-consent", consent.ToString().ToLowerInvariant()), ("features", string.Join(' ', updated.Features)),
                ("recording", updated.Recording ? "on" : "off"), ("two-factor", updated.RequireTwoFactor ? "required" : "optional"),
                ("sign-in-from", Networks(updated.SignInFrom)), ("hosts-from", Networks(updated.HostsFrom)), ("max-file-size", updated.MaxFileSize.ToString(CultureInfo.InvariantCulture))));
        var features = string.Join(", ", updated.Features);
        LogGroupChanged(logger, updated.Name, consent, features, updated.Recording);
        return AdminOutcome.Success(ToView(updated));
    }

    /// <summary>Writes a change with the event of whoever acts now, together or not at all (once begun, it is not cancelled).</summary>
    private Task WriteAsync(AtomicChange change, string action, string target, IReadOnlyDictionary<string, string>? details)
    {
        change.Audit.Add(audit.ChangeEntry(action, target, details));
        return audit.WriteAsync(change, CancellationToken.None);
    }

    /// <summary>Checks and normalises a group's network lists; the problem names the first entry that is not an address or network.</summary>
    private static string? NetworksProblem(
        IReadOnlyList<string>? signIn, IReadOnlyList<string>? hosts, out IReadOnlyList<string> signInFrom, out IReadOnlyList<string> hostsFrom)
    {
        (signInFrom, hostsFrom) = ([], []);
        if (!NetworkList.TryParse(signIn ?? [], out var members, out var problem))
        {
            return "sign-in networks: " + problem;
        }

        if (!NetworkList.TryParse(hosts ?? [], out var machines, out problem))
        {
            return "host networks: " + problem;
        }

        (signInFrom, hostsFrom) = (NetworkList.Format(members), NetworkList.Format(machines));
        return null;
    }

    private static string Networks(IReadOnlyList<string> networks) => networks.Count == 0 ? "anywhere" : string.Join(' ', networks);

    private static string? MaxFileSizeProblem(long? size) =>
        size is null or (>= GroupFeatures.SmallestMaxFileSize and <= GroupFeatures.LargestMaxFileSize)
            ? null
            : $"the largest file must be between 1 MiB and 1 TiB, not {size} bytes";

    private PasswordLinks Links => links ?? throw new InvalidOperationException("invitations need the mail outbox");

    internal static string RoleName(Role role) => role.ToString().ToLowerInvariant();

    private static GroupView ToView(Group group) =>
        new(group.Name, group.UnattendedConsent.ToString().ToLowerInvariant(), group.CreatedAt)
        {
            Features = group.Features,
            Recording = group.Recording,
            RequireTwoFactor = group.RequireTwoFactor,
            SignInFrom = group.SignInFrom,
            HostsFrom = group.HostsFrom,
            MaxFileSize = group.MaxFileSize,
        };

    private static UserView ToView(User user) =>
        new(user.Name, RoleName(user.Role), user.Groups, user.Email, user.Disabled, user.CreatedAt) { TwoFactor = user.TwoFactor is not null };

    private static string InvalidName(string kind, string? name) =>
        $"'{name}' is not a valid {kind} name (1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit)";

    [LoggerMessage(EventId = 4000, Level = LogLevel.Information, Message = "User {UserName} added with role {Role}")]
    private static partial void LogUserAdded(ILogger logger, string userName, Role role);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "User {UserName} changed: role {Role}, disabled {Disabled}")]
    private static partial void LogUserChanged(ILogger logger, string userName, Role role, bool disabled);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "Password of user {UserName} reset by an admin")]
    private static partial void LogPasswordReset(ILogger logger, string userName);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Information, Message = "Group {GroupName} policy: unattended consent {Consent}, features {Features}, recording {Recording}")]
    private static partial void LogGroupChanged(ILogger logger, string groupName, UnattendedConsent consent, string features, bool recording);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Group {GroupName} added, unattended consent {Consent}")]
    private static partial void LogGroupAdded(ILogger logger, string groupName, UnattendedConsent consent);
}
