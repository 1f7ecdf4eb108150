using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using PrivateServer.HostModule.Agent;
using PrivateServer.Protocol.Control;
using PrivateServer.Protocol.Files;

namespace PrivateServer.HostModule.Tests.Agent;

/// <summary>The host's file service over a real loopback TCP connection, as a relay stream would carry it.</summary>
public sealed class FileServiceTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("fileservice-").FullName;
    private readonly List<FileTransferred> _reports = [];
    private readonly List<string> _said = [];
    private long _maxFileSize = FileTransferProtocol.DefaultMaxFileSize;

    [Fact]
    public async Task Put_InterruptedMidway_KeepsWhatArrived_AndTheNextPutContinuesThere()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var content = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(content));

        await using (var pair = await ConnectedAsync(deadline.Token))
        {
            await FileTransferProtocol.WriteAsync(pair.Client, new FileRequest(FileTransferProtocol.Put, "in/data.bin", content.Length, sha256), deadline.Token);
            (await FileTransferProtocol.ReadAsync<FileReply>(pair.Client, deadline.Token))!.Offset.Should().Be(0);
            await pair.Client.WriteAsync(content.AsMemory(0, 700_000), deadline.Token);
            pair.Client.Socket.Shutdown(SocketShutdown.Send);
            await pair.Served;
        }

        File.Exists(Path.Combine(_folder, "in", "data.bin")).Should().BeFalse("an incomplete file never lands");
        _said.Should().Contain(s => s.Contains("interrupted at 700000 of 2097152 bytes", StringComparison.Ordinal));

        await using (var pair = await ConnectedAsync(deadline.Token))
        {
            await FileTransferProtocol.WriteAsync(pair.Client, new FileRequest(FileTransferProtocol.Put, "in/data.bin", content.Length, sha256), deadline.Token);
            (await FileTransferProtocol.ReadAsync<FileReply>(pair.Client, deadline.Token))!.Offset.Should().Be(700_000);
            await pair.Client.WriteAsync(content.AsMemory(700_000), deadline.Token);
            var done = await FileTransferProtocol.ReadAsync<FileReply>(pair.Client, deadline.Token);
            done!.Ok.Should().BeTrue(done.Error);
            done.Sha256.Should().Be(sha256);
        }

        (await File.ReadAllBytesAsync(Path.Combine(_folder, "in", "data.bin"), deadline.Token)).Should().Equal(content);
        Directory.GetFiles(Path.Combine(_folder, "in"), "*.part", new EnumerationOptions { AttributesToSkip = 0 }).Should().BeEmpty();
        _reports.Should().ContainSingle().Which.Should().Be(new FileTransferred("se-test", FileTransferred.ToHost, "in/data.bin", content.Length, sha256));
    }

    [Fact]
    public async Task Put_WithTheWrongHash_WritesNothing_AndTheStreamGoesOn()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var pair = await ConnectedAsync(deadline.Token);
        var content = RandomNumberGenerator.GetBytes(1000);
        await FileTransferProtocol.WriteAsync(pair.Client, new FileRequest(FileTransferProtocol.Put, "x.bin", content.Length, new string('a', 64)), deadline.Token);
        (await FileTransferProtocol.ReadAsync<FileReply>(pair.Client, deadline.Token))!.Ok.Should().BeTrue();
        await pair.Client.WriteAsync(content, deadline.Token);
        var reply = await FileTransferProtocol.ReadAsync<FileReply>(pair.Client, deadline.Token);
        reply!.Ok.Should().BeFalse();
        reply.Error.Should().Contain("nothing was written");
        Directory.GetFileSystemEntries(_folder).Should().BeEmpty("neither the file nor a part of it stays");

        await FileTransferProtocol.WriteAsync(pair.Client, new FileRequest(FileTransferProtocol.List, ""), deadline.Token);
        (await FileTransferProtocol.ReadAsync<FileReply>(pair.Client, deadline.Token))!.Entries.Should().BeEmpty();
    }

    [Fact]
    public async Task FilesLargerThanTheGroupAllows_AreRefusedBothWays_BeforeAnyByteMoves()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        _maxFileSize = 1000;
        await File.WriteAllBytesAsync(Path.Combine(_folder, "big.bin"), new byte[1001], deadline.Token);
        await using var pair = await ConnectedAsync(deadline.Token);

        await FileTransferProtocol.WriteAsync(pair.Client, new FileRequest(FileTransferProtocol.Put, "up.bin", 1001, new string('0', 64)), deadline.Token);
        var put = await FileTransferProtocol.ReadAsync<FileReply>(pair.Client, deadline.Token);
        put!.Ok.Should().BeFalse();
        put.Error.Should().Be("'up.bin' has 1001 bytes; the group's policy allows files of at most 1000 bytes");

        await FileTransferProtocol.WriteAsync(pair.Client, new FileRequest(FileTransferProtocol.Get, "big.bin"), deadline.Token);
        var get = await FileTransferProtocol.ReadAsync<FileReply>(pair.Client, deadline.Token);
        get!.Ok.Should().BeFalse();
        get.Error.Should().Contain("at most 1000 bytes");
        File.Exists(Path.Combine(_folder, "up.bin")).Should().BeFalse();
    }

    [Fact]
    public async Task SystemErrors_DoNotTellTheSupporterWhereTheSharedFolderIs()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await File.WriteAllBytesAsync(Path.Combine(_folder, "ok.bin"), [1, 2, 3], deadline.Token);
        await using var pair = await ConnectedAsync(deadline.Token);

        // 200 characters are fine for the path check, but 400 bytes are too long a file name for Linux: an IOException naming the full path.
        var tooLong = new string('ä', 200);
        await FileTransferProtocol.WriteAsync(pair.Client, new FileRequest(FileTransferProtocol.Put, tooLong, 3, new string('0', 64)), deadline.Token);
        var reply = await FileTransferProtocol.ReadAsync<FileReply>(pair.Client, deadline.Token);

        reply!.Ok.Should().BeFalse();
        reply.Error.Should().NotContain(_folder, "the host's own path stays on the host").And.Contain("ää");
        _said.Should().Contain(s => s.Contains(_folder, StringComparison.Ordinal), "the host's user sees the whole message");
        await FileTransferProtocol.WriteAsync(pair.Client, new FileRequest(FileTransferProtocol.Get, "ok.bin"), deadline.Token);
        (await FileTransferProtocol.ReadAsync<FileReply>(pair.Client, deadline.Token))!.Size.Should().Be(3, "the stream goes on after a refusal");
    }

    [Fact]
    public async Task Get_OfAFifo_SendsNothing_AndDoesNotHang()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [Path.Combine(_folder, "pipe")]))
        {
            await mkfifo.WaitForExitAsync(deadline.Token);
        }

        await using var pair = await ConnectedAsync(deadline.Token);
        await FileTransferProtocol.WriteAsync(pair.Client, new FileRequest(FileTransferProtocol.Get, "pipe"), deadline.Token);
        var reply = await FileTransferProtocol.ReadAsync<FileReply>(pair.Client, deadline.Token);
        reply!.Size.Should().Be(0, "a FIFO reports no size and is never opened");
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0, 5, (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o' }, "not valid")]
    [InlineData(new byte[] { 0x7f, 0xff, 0xff, 0xff }, "not allowed")]
    [InlineData(new byte[] { 0, 0, 0, 9, (byte)'{' }, "ended inside a frame")]
    public async Task GarbledOrOversizedFrame_GetsOneErrorAndTheStreamCloses(byte[] garbage, string why)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var pair = await ConnectedAsync(deadline.Token);
        await pair.Client.WriteAsync(garbage, deadline.Token);
        pair.Client.Socket.Shutdown(SocketShutdown.Send);
        var reply = await FileTransferProtocol.ReadAsync<FileReply>(pair.Client, deadline.Token);
        reply!.Ok.Should().BeFalse();
        reply.Error.Should().Contain(why);
        await pair.Served;
        (await FileTransferProtocol.ReadAsync<FileReply>(pair.Client, deadline.Token)).Should().BeNull("the host closed the stream");
    }

    [Fact]
    public void FrameLength_IsBigEndian()
    {
        var header = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(header, 5);
        header.Should().Equal(0, 0, 0, 5);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private async Task<Pair> ConnectedAsync(CancellationToken cancellationToken)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port, cancellationToken);
        var server = await listener.AcceptTcpClientAsync(cancellationToken);
        var service = new FileService(
            new FileRoot(_folder),
            report =>
            {
                _reports.Add(report);
                return Task.CompletedTask;
            },
            _said.Add);
        var serverStream = server.GetStream();
        var served = Task.Run(async () =>
        {
            try
            {
                await service.ServeAsync("se-test", serverStream, _maxFileSize, cancellationToken);
            }
            finally
            {
                server.Dispose();
            }
        }, cancellationToken);
        return new Pair(client, client.GetStream(), served);
    }

    private sealed record Pair(TcpClient Connection, NetworkStream Client, Task Served) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Connection.Dispose();
            await Served;
        }
    }
}
