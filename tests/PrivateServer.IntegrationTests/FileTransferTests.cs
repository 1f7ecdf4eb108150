using System.Security.Cryptography;
using PrivateServer.IntegrationTests.Infrastructure;

namespace PrivateServer.IntegrationTests;

/// <summary>File transfer through a real appliance to a real host module sharing a folder (<c>--files</c>), with the supporter's ls/send/fetch.</summary>
public sealed class FileTransferTests
{
    [Fact]
    public async Task Send_And_Fetch_50MiB_ByteExact_Listed_Audited()
    {
        using var deadline = TestDeadline.Start(240);
        await using var rig = await SupportRig.StartAsync(deadline.Token, consent: "auto");
        var shared = Directory.CreateDirectory(Path.Combine(rig.Root, "shared")).FullName;
        var state = await rig.EnrollHostAsync("files-pc", deadline.Token);
        var host = await rig.StartHostAsync(state, deadline.Token, "--files", shared);
        host.Stderr.Should().Contain($"exchange files in the folder {shared}");

        var original = Path.Combine(rig.Root, "big.bin");
        var content = RandomNumberGenerator.GetBytes(50 * 1024 * 1024);
        await File.WriteAllBytesAsync(original, content, deadline.Token);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(content));

        var sent = await SupportRig.MustAsync(Supporter(rig, deadline.Token, "send", "files-pc", original, "inbox/"));
        sent.Stdout.Trim().Should().Be(sha256, "send prints the SHA-256 the host checked");
        (await File.ReadAllBytesAsync(Path.Combine(shared, "inbox", "big.bin"), deadline.Token)).Should().Equal(content);
        await host.WaitForStderrAsync("The supporter put the file 'inbox/big.bin' \\(52.428.800 bytes|\\(52,428,800 bytes", deadline.Token);

        var listing = await SupportRig.MustAsync(Supporter(rig, deadline.Token, "ls", "files-pc", "inbox"));
        listing.Stdout.Should().MatchRegex("^file\t52428800\t[0-9TZ:-]+\tbig\\.bin\n$");

        var fetched = Path.Combine(rig.Root, "back.bin");
        var fetch = await SupportRig.MustAsync(Supporter(rig, deadline.Token, "fetch", "files-pc", "inbox/big.bin", fetched));
        fetch.Stdout.Trim().Should().Be(sha256);
        (await File.ReadAllBytesAsync(fetched, deadline.Token)).Should().Equal(content);
        File.Exists(fetched + ".part").Should().BeFalse();

        var audit = Path.Combine(rig.Root, "audit.csv");
        await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "audit", "export", "--format", "csv", "--out", audit));
        var events = (await File.ReadAllLinesAsync(audit, deadline.Token)).Where(l => l.Contains("file.transferred", StringComparison.Ordinal)).ToList();
        events.Should().HaveCount(2);
        events.Should().OnlyContain(l => l.Contains(sha256, StringComparison.Ordinal) && l.Contains("inbox/big.bin", StringComparison.Ordinal) && l.Contains("52428800", StringComparison.Ordinal));
        events[0].Should().Contain("to-host");
        events[1].Should().Contain("from-host");
    }

    [Fact]
    public async Task Resume_ContinuesInterruptedSendAndFetch_AndStillChecksTheWholeFile()
    {
        using var deadline = TestDeadline.Start(180);
        await using var rig = await SupportRig.StartAsync(deadline.Token, consent: "auto");
        var shared = Directory.CreateDirectory(Path.Combine(rig.Root, "shared")).FullName;
        var state = await rig.EnrollHostAsync("resume-pc", deadline.Token);
        await rig.StartHostAsync(state, deadline.Token, "--files", shared);
        var content = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(content));
        var local = Path.Combine(rig.Root, "doc.bin");
        await File.WriteAllBytesAsync(local, content, deadline.Token);

        // What a send cut off after 1 MiB leaves on the host: the part file named after the file's SHA-256.
        await File.WriteAllBytesAsync(Path.Combine(shared, $".doc.bin.{sha256[..16]}.part"), content[..(1024 * 1024)], deadline.Token);
        var sent = await SupportRig.MustAsync(Supporter(rig, deadline.Token, "send", "resume-pc", local, "doc.bin"));
        sent.Stderr.Should().Contain("continued after 1");
        (await File.ReadAllBytesAsync(Path.Combine(shared, "doc.bin"), deadline.Token)).Should().Equal(content);
        Directory.GetFiles(shared, "*.part").Should().BeEmpty();

        // What a fetch cut off after 2 MiB leaves here: LOCAL.part.
        var back = Path.Combine(rig.Root, "back.bin");
        await File.WriteAllBytesAsync(back + ".part", content[..(2 * 1024 * 1024)], deadline.Token);
        var fetched = await SupportRig.MustAsync(Supporter(rig, deadline.Token, "fetch", "resume-pc", "doc.bin", back));
        fetched.Stderr.Should().Contain("continued after 2");
        (await File.ReadAllBytesAsync(back, deadline.Token)).Should().Equal(content);

        // A kept part that does not match the file is caught by the whole-file check, and nothing is left behind.
        var wrong = Path.Combine(rig.Root, "wrong.bin");
        await File.WriteAllBytesAsync(wrong + ".part", new byte[1024], deadline.Token);
        var refused = await Supporter(rig, deadline.Token, "fetch", "resume-pc", "doc.bin", wrong);
        refused.ExitCode.Should().Be(1);
        refused.Stderr.Should().Contain("SHA-256");
        File.Exists(wrong).Should().BeFalse();
        File.Exists(wrong + ".part").Should().BeFalse();
        (await SupportRig.MustAsync(Supporter(rig, deadline.Token, "fetch", "resume-pc", "doc.bin", wrong))).Stdout.Trim().Should().Be(sha256);
    }

    [Fact]
    public async Task Resume_AfterTheSupporterIsKilledMidTransfer_ContinuesBothWaysAndChecksTheWholeFile()
    {
        using var deadline = TestDeadline.Start(240);
        await using var rig = await SupportRig.StartAsync(deadline.Token, consent: "auto");
        var shared = Directory.CreateDirectory(Path.Combine(rig.Root, "shared")).FullName;
        var state = await rig.EnrollHostAsync("killed-pc", deadline.Token);
        await rig.StartHostAsync(state, deadline.Token, "--files", shared);
        var local = Path.Combine(rig.Root, "image.bin");
        var sha256 = await WriteRandomFileAsync(local, 128L * 1024 * 1024, deadline.Token);

        // kill -9 of the supporter's module while the bytes flow: the host keeps what arrived.
        var sending = rig.Track(ChildProcess.Start(Programs.Supporter, ["send", "killed-pc", local, "image.bin", "--state", rig.SupporterState]));
        var hostPart = await KillOnceGrowingAsync(sending, () => Directory.GetFiles(shared, ".image.bin.*.part").FirstOrDefault(), deadline.Token);
        var sent = await SupportRig.MustAsync(Supporter(rig, deadline.Token, "send", "killed-pc", local, "image.bin"));

        // And the other way: the supporter's LOCAL.part keeps what was fetched.
        var back = Path.Combine(rig.Root, "back.bin");
        var fetching = rig.Track(ChildProcess.Start(Programs.Supporter, ["fetch", "killed-pc", "image.bin", back, "--state", rig.SupporterState]));
        var localPart = await KillOnceGrowingAsync(fetching, () => File.Exists(back + ".part") ? back + ".part" : null, deadline.Token);
        var fetched = await SupportRig.MustAsync(Supporter(rig, deadline.Token, "fetch", "killed-pc", "image.bin", back));

        hostPart.Should().BeInRange(1, (128L * 1024 * 1024) - 1, "the send was cut off midway");
        sent.Stderr.Should().MatchRegex("continued after [1-9][0-9,.]* bytes already there");
        sent.Stdout.Trim().Should().Be(sha256);
        Convert.ToHexStringLower(await HashFileAsync(Path.Combine(shared, "image.bin"), deadline.Token)).Should().Be(sha256);
        Directory.GetFiles(shared, "*.part").Should().BeEmpty();
        localPart.Should().BeInRange(1, (128L * 1024 * 1024) - 1, "the fetch was cut off midway");
        fetched.Stderr.Should().MatchRegex("continued after [1-9][0-9,.]* bytes already there");
        Convert.ToHexStringLower(await HashFileAsync(back, deadline.Token)).Should().Be(sha256);
        File.Exists(back + ".part").Should().BeFalse();
    }

    /// <summary>Kills the transfer (SIGKILL) as soon as its part file has bytes, and returns how many the part file kept.</summary>
    private static async Task<long> KillOnceGrowingAsync(ChildProcess transfer, Func<string?> partFile, CancellationToken cancellationToken)
    {
        string? part;
        while ((part = partFile()) is null || new FileInfo(part).Length == 0)
        {
            if (transfer.HasExited)
            {
                throw new InvalidOperationException($"the transfer ended before it could be killed ({transfer.ExitCode}): {transfer.Stderr}");
            }

            await Task.Delay(2, cancellationToken);
        }

        using (var process = System.Diagnostics.Process.GetProcessById(transfer.Id))
        {
            process.Kill();
        }

        await transfer.WaitForExitAsync(cancellationToken);
        // The other side notices the dropped connection and closes its part file.
        await Task.Delay(500, cancellationToken);
        return File.Exists(part) ? new FileInfo(part).Length : 0;
    }

    private static async Task<string> WriteRandomFileAsync(string path, long length, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var file = File.Create(path);
        var chunk = new byte[1024 * 1024];
        for (long written = 0; written < length; written += chunk.Length)
        {
            RandomNumberGenerator.Fill(chunk);
            hash.AppendData(chunk);
            await file.WriteAsync(chunk, cancellationToken);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static async Task<byte[]> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = File.OpenRead(path);
        return await SHA256.HashDataAsync(file, cancellationToken);
    }

    [Fact]
    public async Task Traversal_Absolute_And_Symlinks_AreRefused_NothingWrittenOutside()
    {
        using var deadline = TestDeadline.Start(180);
        await using var rig = await SupportRig.StartAsync(deadline.Token, consent: "auto");
        var shared = Directory.CreateDirectory(Path.Combine(rig.Root, "shared")).FullName;
        File.CreateSymbolicLink(Path.Combine(shared, "etc"), "/etc");
        var state = await rig.EnrollHostAsync("confined-pc", deadline.Token);
        await rig.StartHostAsync(state, deadline.Token, "--files", shared);
        var local = Path.Combine(rig.Root, "payload.txt");
        await File.WriteAllTextAsync(local, "payload", deadline.Token);
        var before = Directory.GetFileSystemEntries(rig.Root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();

        foreach (var (verb, path, why) in new[]
        {
            ("send", "../escaped.txt", "'.' and '..' are not allowed"),
            ("send", "a/../../escaped.txt", "'.' and '..' are not allowed"),
            ("send", "/tmp/escaped.txt", "absolute paths are not allowed"),
            ("send", "etc/escaped.txt", "'etc' is a symbolic link; links are not followed"),
            ("fetch", "etc/passwd", "'etc' is a symbolic link; links are not followed"),
            ("fetch", "../payload.txt", "'.' and '..' are not allowed"),
            ("ls", "etc", "'etc' is a symbolic link; links are not followed"),
        })
        {
            var arguments = verb switch
            {
                "send" => new[] { "send", "confined-pc", local, path },
                "fetch" => ["fetch", "confined-pc", path, Path.Combine(rig.Root, "got.txt")],
                _ => ["ls", "confined-pc", path],
            };
            var result = await Supporter(rig, deadline.Token, arguments);
            result.ExitCode.Should().Be(1, $"{verb} {path} must be refused");
            result.StderrLines[^1].Should().StartWith("privateserver-supporter: ").And.Contain(why);
        }

        Directory.GetFileSystemEntries(rig.Root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Should().Equal(before, "nothing was written anywhere, inside the shared folder or outside");
        File.Exists("/tmp/escaped.txt").Should().BeFalse();
    }

    [Fact]
    public async Task TheGroupsLargestFile_IsEnforcedOnTheHost()
    {
        using var deadline = TestDeadline.Start(120);
        await using var rig = await SupportRig.StartAsync(deadline.Token, consent: "auto");
        await SupportRig.MustAsync(rig.Appliance.CliAsync(deadline.Token, "group", "add", "small", "--unattended-consent", "auto", "--max-file-size", "1M"));
        await rig.AddSupporterAsync("bob", "Bob-Password-2026", "small", deadline.Token);
        var bob = Path.Combine(rig.Root, "supporter-bob");
        await SupportRig.MustAsync(rig.LoginAsync("bob", "Bob-Password-2026", bob, deadline.Token));
        var shared = Directory.CreateDirectory(Path.Combine(rig.Root, "shared")).FullName;
        var state = await rig.EnrollHostAsync("small-pc", deadline.Token, group: "small");
        await rig.StartHostAsync(state, deadline.Token, "--files", shared);
        var local = Path.Combine(rig.Root, "two.bin");
        await File.WriteAllBytesAsync(local, new byte[(2 * 1024 * 1024) + 1], deadline.Token);
        await File.WriteAllBytesAsync(Path.Combine(shared, "there.bin"), new byte[(2 * 1024 * 1024) + 1], deadline.Token);

        var send = await ChildProcess.RunAsync(Programs.Supporter, ["send", "small-pc", local, "two.bin", "--state", bob], deadline.Token);
        send.ExitCode.Should().Be(1);
        send.Stderr.Should().Contain("'two.bin' has 2097153 bytes; the group's policy allows files of at most 1048576 bytes");
        File.Exists(Path.Combine(shared, "two.bin")).Should().BeFalse();
        var fetch = await ChildProcess.RunAsync(Programs.Supporter, ["fetch", "small-pc", "there.bin", Path.Combine(rig.Root, "there.bin"), "--state", bob], deadline.Token);
        fetch.ExitCode.Should().Be(1);
        fetch.Stderr.Should().Contain("at most 1048576 bytes");
    }

    [Fact]
    public async Task HostWithoutFiles_RefusesFileTransfer_WithTheReason()
    {
        using var deadline = TestDeadline.Start(120);
        await using var rig = await SupportRig.StartAsync(deadline.Token, consent: "auto");
        var state = await rig.EnrollHostAsync("plain-pc", deadline.Token);
        await rig.StartHostAsync(state, deadline.Token);
        var result = await Supporter(rig, deadline.Token, "ls", "plain-pc");
        result.ExitCode.Should().Be(1);
        result.Stderr.Should().Contain("shares no folder for file transfer");
    }

    private static Task<ProcessResult> Supporter(SupportRig rig, CancellationToken cancellationToken, params string[] arguments) =>
        ChildProcess.RunAsync(Programs.Supporter, [.. arguments, "--state", rig.SupporterState], cancellationToken);
}
