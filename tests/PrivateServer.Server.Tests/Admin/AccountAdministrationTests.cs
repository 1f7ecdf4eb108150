using Microsoft.Extensions.Logging.Abstractions;
using PrivateServer.Server.Admin;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Auth;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tests.Admin;

public sealed class AccountAdministrationTests : IAsyncLifetime, IDisposable
{
    private readonly TempDataFolder _temp = new();
    private ApplianceDatabase? _database;
    private AuditTrail? _audit;
    private AccountAdministration _administration = null!;

    public async Task InitializeAsync()
    {
        await _temp.InitialiseAsync();
        _database = ApplianceDatabase.Open(_temp.Folder);
        _administration = new AccountAdministration(
            new LiteDbUserStore(_database), new LiteDbGroupStore(_database), new PasswordService(), _audit = TestAudit.Trail(_database), TimeProvider.System,
            NullLogger<AccountAdministration>.Instance);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [InlineData(null, null, "an invitation goes by mail: give the user an e-mail address, and no password (the user chooses it)")]
    [InlineData("eve@example.internal", "Chosen-Password-2026", "an invitation goes by mail: give the user an e-mail address, and no password (the user chooses it)")]
    [InlineData("Eve <eve@example.internal>", null, "'Eve <eve@example.internal>' is not an e-mail address")]
    public async Task AddUser_Invited_NeedsAPlainAddressAndNoPassword_AndAddsNothingOtherwise(string? email, string? password, string refusal)
    {
        var outcome = await _administration.AddUserAsync(new AddUserRequest("eve", "supporter", [], email, password, Invite: true), CancellationToken.None);

        outcome.Failure.Should().Be(new AdminFailure(AdminFailureKind.Invalid, refusal));
        (await _administration.ListUsersAsync(CancellationToken.None)).Should().NotContain(u => u.Name == "eve");
    }

    [Fact]
    public async Task AddUser_WhenGroupExists_StoresUserWithGeneratedPasswordThatSignsIn()
    {
        await _administration.AddGroupAsync(new AddGroupRequest("Helpdesk", "auto"), CancellationToken.None);

        var outcome = await _administration.AddUserAsync(new AddUserRequest("bob", "Supporter", ["helpdesk"], "bob@example.internal", null), CancellationToken.None);

        outcome.Failure.Should().BeNull();
        outcome.Value!.GeneratedPassword.Should().HaveLength(20);
        outcome.Value.Groups.Should().Equal("Helpdesk");
        var login = TestSignIn.Create(_database!, _audit!).Login;
        (await login.SignInAsync("BOB", outcome.Value.GeneratedPassword, null, CancellationToken.None)).User!.Name.Should().Be("bob");
        (await login.SignInAsync("bob", "not-the-password", null, CancellationToken.None)).User.Should().BeNull();
    }

    [Fact]
    public async Task AddUser_WhenNameExistsInOtherCase_IsAConflictAndKeepsTheFirst()
    {
        await _administration.AddUserAsync(new AddUserRequest("carol", "auditor", [], null, "first-password-123"), CancellationToken.None);

        var outcome = await _administration.AddUserAsync(new AddUserRequest("Carol", "admin", [], null, "second-password-123"), CancellationToken.None);

        outcome.Failure!.Kind.Should().Be(AdminFailureKind.Conflict);
        var users = await _administration.ListUsersAsync(CancellationToken.None);
        users.Should().ContainSingle(u => u.Name == "carol").Which.Role.Should().Be("auditor");
    }

    [Theory]
    [InlineData("bad name", "supporter", "not a valid user name")]
    [InlineData("dave", "boss", "unknown role")]
    public async Task AddUser_WhenRequestIsInvalid_RefusesAndWritesNothing(string name, string role, string reason)
    {
        var before = await _administration.ListUsersAsync(CancellationToken.None);

        var outcome = await _administration.AddUserAsync(new AddUserRequest(name, role, [], null, null), CancellationToken.None);

        outcome.Failure!.Kind.Should().Be(AdminFailureKind.Invalid);
        outcome.Failure.Message.Should().Contain(reason);
        (await _administration.ListUsersAsync(CancellationToken.None)).Should().BeEquivalentTo(before);
    }

    [Fact]
    public async Task AddUser_WhenGroupIsMissing_NamesTheGroupAndWritesNothing()
    {
        var outcome = await _administration.AddUserAsync(new AddUserRequest("erin", "supporter", ["ghosts"], null, null), CancellationToken.None);

        outcome.Failure!.Kind.Should().Be(AdminFailureKind.NotFound);
        outcome.Failure.Message.Should().Contain("'ghosts' does not exist");
        (await _administration.ListUsersAsync(CancellationToken.None)).Should().NotContain(u => u.Name == "erin");
    }

    [Fact]
    public async Task AddUser_WhenChosenPasswordIsTooShort_Refuses()
    {
        var outcome = await _administration.AddUserAsync(new AddUserRequest("frank", "supporter", [], null, "short"), CancellationToken.None);

        outcome.Failure!.Message.Should().Contain("at least 12 characters");
    }

    [Fact]
    public async Task AddGroup_WhenConsentIsUnknownOrNameTaken_Refuses()
    {
        var unknown = await _administration.AddGroupAsync(new AddGroupRequest("ops", "sometimes"), CancellationToken.None);
        var first = await _administration.AddGroupAsync(new AddGroupRequest("ops", null), CancellationToken.None);
        var again = await _administration.AddGroupAsync(new AddGroupRequest("OPS", "auto"), CancellationToken.None);

        unknown.Failure!.Message.Should().Contain("use ask or auto");
        first.Value!.UnattendedConsent.Should().Be("ask");
        again.Failure!.Kind.Should().Be(AdminFailureKind.Conflict);
    }

    public void Dispose()
    {
        _database?.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public async Task UpdateUser_TheLastEnabledAdmin_CannotBeDisabledOrDemoted_UntilThereIsAnother()
    {
        var disable = await _administration.UpdateUserAsync(new UpdateUserRequest("admin", null, null, null, Disabled: true), CancellationToken.None);
        var demote = await _administration.UpdateUserAsync(new UpdateUserRequest("admin", "supporter", null, null, null), CancellationToken.None);
        await _administration.AddUserAsync(new AddUserRequest("root2", "admin", null, null, null), CancellationToken.None);
        var afterSecond = await _administration.UpdateUserAsync(new UpdateUserRequest("admin", null, null, null, Disabled: true), CancellationToken.None);

        disable.Failure!.Message.Should().Be("'admin' is the last enabled admin; make another admin first");
        demote.Failure.Should().NotBeNull();
        afterSecond.Failure.Should().BeNull();
        afterSecond.Value!.Disabled.Should().BeTrue();
    }

    [Fact]
    public async Task UpdateUser_ChangesRoleGroupsAndEmail_AndRefusesAnUnknownGroupWithoutChangingAnything()
    {
        await _administration.AddGroupAsync(new AddGroupRequest("helpdesk", null), CancellationToken.None);
        await _administration.AddUserAsync(new AddUserRequest("bob", "supporter", null, null, null), CancellationToken.None);

        var changed = await _administration.UpdateUserAsync(new UpdateUserRequest("bob", "auditor", ["Helpdesk"], "bob@example.internal", null), CancellationToken.None);
        var refused = await _administration.UpdateUserAsync(new UpdateUserRequest("bob", "supporter", ["nowhere"], null, null), CancellationToken.None);
        var stored = (await _administration.ListUsersAsync(CancellationToken.None)).Single(u => u.Name == "bob");

        changed.Value!.Role.Should().Be("auditor");
        refused.Failure!.Message.Should().Be("group 'nowhere' does not exist");
        (stored.Role, stored.Email).Should().Be(("auditor", "bob@example.internal"));
        stored.Groups.Should().Equal("helpdesk");
    }

    [Fact]
    public async Task ResetPassword_GivesANewPasswordThatSignsIn_AndTheOldOneNoLonger()
    {
        await _administration.AddUserAsync(new AddUserRequest("bob", "supporter", null, null, "Old-Password-2026"), CancellationToken.None);

        var reset = await _administration.ResetPasswordAsync("bob", CancellationToken.None);

        var login = TestSignIn.Create(_database!, _audit!).Login;
        (await login.SignInAsync("bob", reset.Value!.GeneratedPassword, null, CancellationToken.None)).User.Should().NotBeNull();
        (await login.SignInAsync("bob", "Old-Password-2026", null, CancellationToken.None)).User.Should().BeNull();
    }

    [Fact]
    public async Task UpdateGroup_StoresConsentFeaturesAndRecording_AndRefusesAnUnknownFeature()
    {
        await _administration.AddGroupAsync(new AddGroupRequest("helpdesk", null), CancellationToken.None);

        var saved = await _administration.UpdateGroupAsync(new UpdateGroupRequest("helpdesk", "auto", ["chat", "view"], Recording: true), CancellationToken.None);
        var refused = await _administration.UpdateGroupAsync(new UpdateGroupRequest("helpdesk", "ask", ["view", "telepathy"], false), CancellationToken.None);
        var stored = (await _administration.ListGroupsAsync(CancellationToken.None)).Single();

        saved.Failure.Should().BeNull();
        refused.Failure!.Message.Should().StartWith("unknown feature 'telepathy'");
        stored.UnattendedConsent.Should().Be("auto");
        stored.Features.Should().Equal("view", "chat");
        stored.Recording.Should().BeTrue();
    }

    [Fact]
    public async Task MaxFileSize_Defaults_To1GiB_IsKeptWhenNotGiven_AndMustStayBetween1MiBAnd1TiB()
    {
        await _administration.AddGroupAsync(new AddGroupRequest("helpdesk", null), CancellationToken.None);
        (await _administration.ListGroupsAsync(CancellationToken.None)).Single().MaxFileSize.Should().Be(1L << 30);

        (await _administration.UpdateGroupAsync(new UpdateGroupRequest("helpdesk", "ask", ["files"], false, MaxFileSize: 5L << 20), CancellationToken.None)).Failure.Should().BeNull();
        (await _administration.UpdateGroupAsync(new UpdateGroupRequest("helpdesk", "ask", ["files"], false), CancellationToken.None)).Failure.Should().BeNull();
        var tooSmall = await _administration.UpdateGroupAsync(new UpdateGroupRequest("helpdesk", "ask", ["files"], false, MaxFileSize: 1000), CancellationToken.None);
        var tooBig = await _administration.AddGroupAsync(new AddGroupRequest("archive", null, MaxFileSize: 1L << 41), CancellationToken.None);

        (await _administration.ListGroupsAsync(CancellationToken.None)).Single().MaxFileSize.Should().Be(5L << 20, "a request without a size keeps the group's");
        tooSmall.Failure!.Message.Should().Be("the largest file must be between 1 MiB and 1 TiB, not 1000 bytes");
        tooBig.Failure.Should().NotBeNull();
    }

    [Fact]
    public async Task AddGroup_WithoutAPolicy_AllowsEveryFeatureButRecording()
    {
        await _administration.AddGroupAsync(new AddGroupRequest("helpdesk", null), CancellationToken.None);

        var stored = (await _administration.ListGroupsAsync(CancellationToken.None)).Single();

        stored.Features.Should().Equal("view", "control", "tunnels", "files", "chat", "sysinfo", "scripts");
        stored.Recording.Should().BeFalse();
    }

    [Fact]
    public async Task AddGroup_WithRecording_RecordsFromTheStart()
    {
        var added = await _administration.AddGroupAsync(new AddGroupRequest("audited", "auto", Recording: true), CancellationToken.None);

        var stored = (await _administration.ListGroupsAsync(CancellationToken.None)).Single();

        added.Value!.Recording.Should().BeTrue();
        stored.Recording.Should().BeTrue();
    }

    [Theory]
    [InlineData("view", "view")]
    [InlineData("control", "control")]
    [InlineData("tunnel:screen", "view")]
    [InlineData("tunnel:rdp", "tunnels")]
    public void GroupFeatures_ForAPermission_IsTheFeatureItNeeds(string permission, string feature) =>
        Accounts.GroupFeatures.For(permission).Should().Be(feature);
}
