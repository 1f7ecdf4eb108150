using System.Net.WebSockets;
using PrivateServer.Protocol.Control;
using PrivateServer.Server.Accounts;
using PrivateServer.Server.AdHoc;
using PrivateServer.Server.Broker;
using PrivateServer.Server.Hosts;

namespace PrivateServer.Server.Tests.AdHoc;

public sealed class AdHocDeskTests
{
    private static readonly User Alice = new("alice", Role.Supporter, ["support"], null, "x", false, DateTimeOffset.UnixEpoch);
    private static readonly User Bob = new("bob", Role.Supporter, ["support"], null, "x", false, DateTimeOffset.UnixEpoch);
    private static readonly User Finance = new("frank", Role.Supporter, ["finance"], null, "x", false, DateTimeOffset.UnixEpoch);

    [Fact]
    public async Task TryTakeRequest_TwoSupportersAtOnce_ExactlyOneGetsTheCustomer()
    {
        var desk = new AdHocDesk();
        var customer = Request("rq-1", "support");
        desk.Arrive(customer);
        using var start = new ManualResetEventSlim();

        var takes = await Task.WhenAll(
            Task.Run(() => { start.Wait(); return desk.TryTakeRequest("rq-1", Alice); }),
            Task.Run(() => { start.Wait(); return desk.TryTakeRequest("rq-1", Bob); }),
            Task.Run(() => { start.Set(); return desk.TryTakeRequest("rq-1", Alice); }));

        takes.Count(t => t is not null).Should().Be(1);
        desk.WaitingFor(Alice).Should().BeEmpty("a taken request leaves the queue");
        customer.Taken.IsCompleted.Should().BeTrue();
    }

    [Fact]
    public void WaitingFor_ShowsTheSupportersGroupsAndRequestsWithoutAGroup()
    {
        var desk = new AdHocDesk();
        desk.Arrive(Request("rq-support", "support"));
        desk.Arrive(Request("rq-anyone", null));

        var alices = desk.WaitingFor(Alice).Select(c => c.RequestId);
        var franks = desk.WaitingFor(Finance).Select(c => c.RequestId);

        alices.Should().BeEquivalentTo("rq-support", "rq-anyone");
        franks.Should().Equal("rq-anyone");
        desk.TryTakeRequest("rq-support", Finance).Should().BeNull("another group's request cannot be taken");
    }

    [Fact]
    public async Task WaitForCode_WhenTheCustomerLeavesFirst_FindsNobody()
    {
        var desk = new AdHocDesk();
        var code = new SessionCodeRecord("sc-1", "hash-1", "alice", DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, DateTimeOffset.UnixEpoch, "192.0.2.8");
        var customer = Customer(code, null, null);
        desk.Arrive(customer);
        var arrived = await desk.WaitForCodeAsync("hash-1", TimeSpan.Zero, CancellationToken.None);
        desk.Leave(customer);

        var afterwards = await desk.WaitForCodeAsync("hash-1", TimeSpan.Zero, CancellationToken.None);

        arrived.Should().BeSameAs(customer);
        afterwards.Should().BeNull();
        desk.FindByRelayKey(customer.RelayKeyHash).Should().BeNull("the relay key dies with the customer");
    }

    private static AdHocCustomer Request(string id, string? group) => Customer(null, id, group);

    private static AdHocCustomer Customer(SessionCodeRecord? code, string? requestId, string? group)
    {
        var record = new HostRecord("ah-" + (requestId ?? code!.Id), "carol-pc", group ?? string.Empty, string.Empty, string.Empty, DateTimeOffset.UnixEpoch, null, null, null, [], null);
        var channel = new ControlChannel(WebSocket.CreateFromStream(new MemoryStream(), new WebSocketCreationOptions { IsServer = true }));
        var connection = new HostConnection(record, new HostHello("carol-pc", "x", "x", []), channel, CancellationToken.None, adHoc: true);
        return new AdHocCustomer(connection, "key-" + record.Id, code, requestId, "help", group, "192.0.2.8", DateTimeOffset.UnixEpoch);
    }
}
