namespace PrivateServer.Server.Admin;

/// <summary>
/// The admin verbs. Implemented in-process over the stores (<see cref="AccountAdministration"/>)
/// and, in the CLI, over the running server's admin socket.
/// </summary>
public interface IApplianceAdministration
{
    Task<AdminOutcome<AddUserResponse>> AddUserAsync(AddUserRequest request, CancellationToken cancellationToken);

    Task<IReadOnlyList<UserView>> ListUsersAsync(CancellationToken cancellationToken);

    Task<AdminOutcome<GroupView>> AddGroupAsync(AddGroupRequest request, CancellationToken cancellationToken);

    Task<IReadOnlyList<GroupView>> ListGroupsAsync(CancellationToken cancellationToken);
}
