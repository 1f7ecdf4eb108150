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

    private static readonly string[] FuzzPaths =
    [
        "", "a.txt", "sub/b.bin", "../escape.txt", "../../etc/passwd", "/etc/passwd", "a/../../x", "C:\\x", "a\u0000b", "a\nb",
        "sub//c", "./d", "sub/", new string('x', 5000), "..", "sub/../../../outside/y",
    ];

    [Fact]
    [Trait("Category", "Fuzz")]
    public async Task Serve_WhenFedRandomRequestsAndGarbledFrames_AnswersOrCloses_NeverHangs_AndWritesNothingOutsideTheRoot()
    {
        // The shared folder is a folder inside the test's own: anything else appearing there, or beside it, escaped.
        var root = Directory.CreateDirectory(Path.Combine(_folder, "root")).FullName;
        Directory.CreateDirectory(Path.Combine(root, "sub"));
        await File.WriteAllTextAsync(Path.Combine(root, "a.txt"), "hello");

        await Fuzz.RunAsync(20261129, 300, async random =>
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await using var pair = await ConnectedAsync(deadline.Token, root);
            try
            {
                for (var i = random.Next(1, 6); i > 0; i--)
                {
                    await pair.Client.WriteAsync(RandomFrame(random), deadline.Token);
                }

                pair.Client.Socket.Shutdown(SocketShutdown.Send);
            }
            catch (IOException)
            {
                // The host closed the stream after a broken frame: what was written later has nowhere to go.
            }

            // Drain whatever the host answers until it closes: it must close, not wait forever.
            var buffer = new byte[64 * 1024];
            try
            {
                while (await pair.Client.ReadAsync(buffer, deadline.Token) > 0)
                {
                }
            }
            catch (IOException)
            {
                // Reset by the host after it closed with our bytes unread: closed all the same.
            }

            await pair.Served.WaitAsync(deadline.Token);
            Directory.EnumerateFileSystemEntries(_folder).Should().Equal([root], "no path leaves the shared folder");
            File.Exists(Path.Combine(_folder, "..", "escape.txt")).Should().BeFalse();
        });
    }

    /// <summary>A request (list, put with a few bytes, get, or an unknown op) on a random path, or a frame broken in its length or JSON.</summary>
    private static byte[] RandomFrame(Random random)
    {
        var path = random.Next(4) == 0 ? new string(Enumerable.Range(0, random.Next(0, 30)).Select(_ => (char)random.Next(1, 0x300)).ToArray()) : FuzzPaths[random.Next(FuzzPaths.Length)];
        var size = random.Next(3) == 0 ? random.NextInt64(-5, long.MaxValue) : random.Next(0, 64);
        var sha = random.Next(2) == 0 ? Convert.ToHexStringLower(SHA256.HashData(new byte[Math.Max(0, (int)Math.Min(size, 64))])) : new string('z', random.Next(0, 70));
        var request = random.Next(4) switch
        {
            0 => new FileRequest(FileTransferProtocol.List, path),
            1 => new FileRequest(FileTransferProtocol.Put, path, size, sha),
            2 => new FileRequest(FileTransferProtocol.Get, path, Offset: random.NextInt64(-3, 100)),
            _ => new FileRequest("rm", path),
        };
        var json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new { op = request.Op, path = request.Path, size = request.Size, sha256 = request.Sha256, offset = request.Offset });
        var frame = new byte[4 + json.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, json.Length);
        json.CopyTo(frame, 4);
        switch (random.Next(6))
        {
            case 0:
                BinaryPrimitives.WriteInt32BigEndian(frame, random.Next(int.MinValue, int.MaxValue));
                break;
            case 1:
                frame[4 + random.Next(json.Length)] = (byte)random.Next(256);
                break;
            case 2:
                frame = frame[..random.Next(frame.Length)];
                break;
            default:
                break;
        }

        // After a put, some of the file's bytes (maybe fewer than announced).
        return request.Op == FileTransferProtocol.Put ? [.. frame, .. new byte[random.Next(0, 80)]] : frame;
    }

    [Fact]
    public void FrameLength_IsBigEndian()
    {
        var header = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(header, 5);
        header.Should().Equal(0, 0, 0, 5);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private async Task<Pair> ConnectedAsync(CancellationToken cancellationToken, string? root = null)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port, cancellationToken);
        var server = await listener.AcceptTcpClientAsync(cancellationToken);
        var service = new FileService(
            new FileRoot(root ?? _folder),
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
