using Microsoft.Extensions.Logging;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.Auth;

namespace PrivateServer.Server.Admin;

/// <summary>Creates and lists users and groups, validating everything before anything is written.</summary>
public sealed partial class AccountAdministration(
    IUserStore users,
    IGroupStore groups,
    PasswordService passwords,
    TimeProvider time,
    ILogger<AccountAdministration> logger)
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

        if (request.Email is { } email && !IsPlausibleEmail(email))
        {
            return AdminOutcome.Fail<AddUserResponse>(AdminFailureKind.Invalid, $"'{email}' is not an e-mail address");
        }

        var generated = request.Password is null ? PasswordService.Generate() : null;
        var password = request.Password ?? generated!;
        if (PasswordService.PolicyViolation(password, request.Name) is { } violation)
        {
            return AdminOutcome.Fail<AddUserResponse>(AdminFailureKind.Invalid, violation);
        }

        var user = new User(request.Name, role, memberOf, request.Email, passwords.Hash(password), Disabled: false, time.GetUtcNow());
        if (!await users.TryAddAsync(user, cancellationToken))
        {
            return AdminOutcome.Fail<AddUserResponse>(AdminFailureKind.Conflict, $"user '{request.Name}' already exists");
        }

        LogUserAdded(logger, user.Name, role);
        return AdminOutcome.Success(new AddUserResponse(user.Name, RoleName(role), memberOf, generated));
    }

    public async Task<IReadOnlyList<UserView>> ListUsersAsync(CancellationToken cancellationToken) =>
        (await users.ListAsync(cancellationToken))
            .Select(u => new UserView(u.Name, RoleName(u.Role), u.Groups, u.Email, u.Disabled, u.CreatedAt))
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

        var group = new Group(request.Name, consent, time.GetUtcNow());
        if (!await groups.TryAddAsync(group, cancellationToken))
        {
            return AdminOutcome.Fail<GroupView>(AdminFailureKind.Conflict, $"group '{request.Name}' already exists");
        }

        LogGroupAdded(logger, group.Name, consent);
        return AdminOutcome.Success(ToView(group));
    }

    public async Task<IReadOnlyList<GroupView>> ListGroupsAsync(CancellationToken cancellationToken) =>
        (await groups.ListAsync(cancellationToken)).Select(ToView).ToList();

    internal static string RoleName(Role role) => role.ToString().ToLowerInvariant();

    private static GroupView ToView(Group group) =>
        new(group.Name, group.UnattendedConsent.ToString().ToLowerInvariant(), group.CreatedAt);

    private static string InvalidName(string kind, string? name) =>
        $"'{name}' is not a valid {kind} name (1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit)";

    private static bool IsPlausibleEmail(string email) =>
        email.Length <= 254 && email.IndexOf('@', StringComparison.Ordinal) is > 0 and var at && at < email.Length - 1
        && !email.Any(char.IsWhiteSpace);

    [LoggerMessage(EventId = 4000, Level = LogLevel.Information, Message = "User {UserName} added with role {Role}")]
    private static partial void LogUserAdded(ILogger logger, string userName, Role role);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Group {GroupName} added, unattended consent {Consent}")]
    private static partial void LogGroupAdded(ILogger logger, string groupName, UnattendedConsent consent);
}
