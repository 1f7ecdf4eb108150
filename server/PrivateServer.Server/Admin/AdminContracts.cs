namespace PrivateServer.Server.Admin;

// What the admin verbs send and receive, over the admin socket or in-process.

/// <summary>A new user; with <see cref="Invite"/> no password is given or shown: the user gets a set-password link by mail (in <see cref="Language"/>).</summary>
public sealed record AddUserRequest(string Name, string Role, IReadOnlyList<string>? Groups, string? Email, string? Password, bool Invite = false, string? Language = null);

/// <summary>Mails a user a new invitation (set-password link, 72 h).</summary>
public sealed record InviteUserRequest(string Name, string? Language);

/// <summary>A created user; <see cref="GeneratedPassword"/> is set when the appliance chose the password, <see cref="InvitationMail"/> (the outbox id) when the user was invited.</summary>
public sealed record AddUserResponse(string Name, string Role, IReadOnlyList<string> Groups, string? GeneratedPassword, string? InvitationMail = null);

/// <summary>A new group; <see cref="Recording"/> switches on server-side screen recording for its hosts' sessions.</summary>
public sealed record AddGroupRequest(string Name, string? UnattendedConsent, bool Recording = false, long? MaxFileSize = null, bool RequireTwoFactor = false)
{
    /// <summary>The networks the group's members may sign in from (addresses or CIDR); empty: anywhere.</summary>
    public IReadOnlyList<string> SignInFrom { get; init; } = [];

    /// <summary>The networks the group's hosts may connect from; empty: anywhere.</summary>
    public IReadOnlyList<string> HostsFrom { get; init; } = [];
}

public sealed record UserView(string Name, string Role, IReadOnlyList<string> Groups, string? Email, bool Disabled, DateTimeOffset CreatedAt)
{
    /// <summary>Whether the user has set up two-factor sign-in (an authenticator app).</summary>
    public bool TwoFactor { get; init; }
}

public sealed record GroupView(string Name, string UnattendedConsent, DateTimeOffset CreatedAt)
{
    public IReadOnlyList<string> Features { get; init; } = [];

    public bool Recording { get; init; }

    /// <summary>Whether the group's members must sign in with a second factor.</summary>
    public bool RequireTwoFactor { get; init; }

    public IReadOnlyList<string> SignInFrom { get; init; } = [];

    public IReadOnlyList<string> HostsFrom { get; init; } = [];

    /// <summary>The largest file a session on the group's hosts may move, in bytes.</summary>
    public long MaxFileSize { get; init; }
}

/// <summary>Changes to a user; null leaves a field as it is.</summary>
public sealed record UpdateUserRequest(string Name, string? Role, IReadOnlyList<string>? Groups, string? Email, bool? Disabled);

/// <summary>A group's new policy.</summary>
public sealed record UpdateGroupRequest(string Name, string UnattendedConsent, IReadOnlyList<string> Features, bool Recording, long? MaxFileSize = null, bool RequireTwoFactor = false)
{
    /// <summary>The networks the group's members may sign in from (addresses or CIDR); empty: anywhere.</summary>
    public IReadOnlyList<string> SignInFrom { get; init; } = [];

    /// <summary>The networks the group's hosts may connect from; empty: anywhere.</summary>
    public IReadOnlyList<string> HostsFrom { get; init; } = [];
}

/// <summary>An enrolment token as listed: only a prefix of its hash identifies it; the token itself was shown once.</summary>
public sealed record EnrollmentTokenListing(
    string Id, string Group, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, int MaxUses, int Uses, string? UsedByHost);

/// <summary>A new enrolment token; <see cref="MaxUses"/> is how many hosts may enrol with it (default 1).</summary>
public sealed record CreateEnrollmentTokenRequest(string Group, int? ExpiresInSeconds, int? MaxUses = null);

/// <summary>A new enrolment token; <see cref="Token"/> is shown once and kept only as a hash.</summary>
public sealed record EnrollmentTokenView(string Token, string Group, DateTimeOffset ExpiresAt, int MaxUses);

public sealed record HostView(
    string Id, string Name, string Group, bool Online, DateTimeOffset? LastSeen, string? Os, string? ModuleVersion,
    IReadOnlyList<string> Services, bool Revoked, DateTimeOffset EnrolledAt);

/// <summary>One mail in the outbox as the admin sees it (without its body).</summary>
public sealed record MailView(
    string Id, string Kind, string To, string Language, string Subject, string State, int Attempts, DateTimeOffset CreatedAt,
    DateTimeOffset NextAttemptAt, DateTimeOffset? LastAttemptAt, string? LastError, DateTimeOffset? SentAt);

/// <summary>The outbox, newest first, and why mail cannot go out now (null when it can).</summary>
public sealed record MailQueueView(IReadOnlyList<MailView> Mails, string? Blocked);

/// <summary>A test mail to <see cref="To"/> in <see cref="Language"/> (de or en; English when not given).</summary>
public sealed record TestMailRequest(string To, string? Language);

/// <summary>An account name or a source address slowed down or blocked after failed sign-ins (<see cref="Auth.LoginThrottle"/>).</summary>
public sealed record LoginLockView(string Kind, string Subject, int Failures, DateTimeOffset LastFailure, DateTimeOffset? BlockedUntil, DateTimeOffset? NextAttempt);

public enum AdminFailureKind
{
    Invalid,
    NotFound,
    Conflict,
}

/// <summary>An expected refusal (bad name, existing user...): one line for the admin.</summary>
public sealed record AdminFailure(AdminFailureKind Kind, string Message);

/// <summary>Either a value or a failure.</summary>
public sealed record AdminOutcome<T>(T? Value, AdminFailure? Failure)
    where T : class;

public static class AdminOutcome
{
    public static AdminOutcome<T> Success<T>(T value)
        where T : class => new(value, null);

    public static AdminOutcome<T> Fail<T>(AdminFailureKind kind, string message)
        where T : class => new(null, new AdminFailure(kind, message));
}
