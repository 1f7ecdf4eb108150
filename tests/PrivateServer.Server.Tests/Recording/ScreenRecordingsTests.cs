using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using PrivateServer.Server.Audit;
using PrivateServer.Server.Recording;
using PrivateServer.Server.Relay;
using PrivateServer.Server.Storage;

namespace PrivateServer.Server.Tests.Recording;

public sealed class ScreenRecordingsTests : IAsyncLifetime, IDisposable
{
    private readonly TempDataFolder _temp = new();
    private readonly ManualClock _clock = ManualClock.Monday();
    private ApplianceDatabase? _database;

    public async Task InitializeAsync()
    {
        await _temp.InitialiseAsync("Admin-Password-2026");
        _database = ApplianceDatabase.Open(_temp.Folder);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Recording_WhatBothHalvesRead_IsWrittenAsTimedFrames_AndItsHashGoesIntoTheAuditTrail()
    {
        using var log = new LiteDbAuditLog(_database!);
        var recordings = Recordings(log);
        var recording = Start(recordings, "se-1");
        using var fromHost = new MemoryStream("RFB 003.008\n"u8.ToArray());
        using var fromSupporter = new MemoryStream("RFB 003.008\n\u0001"u8.ToArray());
        var (supporter, host) = recording.Tap(fromSupporter, fromHost);
        var buffer = new byte[64];

        var hostRead = await host.ReadAsync(buffer);
        var supporterRead = await supporter.ReadAsync(buffer);
        await recordings.CompleteAsync(recording, CancellationToken.None);
        var bytes = await File.ReadAllBytesAsync(recording.Path);
        var frames = Frames(bytes);
        var saved = await log.LastAsync(CancellationToken.None);

        (hostRead, supporterRead).Should().Be((12, 13));
        recording.RelativePath.Should().Be("2026-11/se-1-" + recording.Stream.Id + ".psrec");
        Encoding.UTF8.GetString(bytes).Should().StartWith("PSREC/1\n{\"session\":\"se-1\",\"stream\":\"" + recording.Stream.Id + "\",\"service\":\"screen\",\"startedAt\":\"2026-11-23T09:00:00.0000000Z\"}\n");
        frames.Select(f => (f.Direction, Encoding.ASCII.GetString(f.Bytes))).Should().Equal(('S', "RFB 003.008\n"), ('C', "RFB 003.008\n\u0001"));
        frames[1].Micros.Should().BeGreaterThanOrEqualTo(frames[0].Micros);
        saved!.Entry.Action.Should().Be("recording.saved");
        saved.Entry.SessionId.Should().Be("se-1");
        saved.Entry.Details!["sha256"].Should().Be(Convert.ToHexStringLower(SHA256.HashData(bytes)));
        saved.Entry.Details["stream-bytes"].Should().Be("25");
        File.Exists(recording.PartialPath).Should().BeFalse("a saved recording has its name");
    }

    [Fact]
    public async Task Recording_OfSeveralMebibytesFromBothHalvesAtOnce_KeepsEveryByteInOrder_AndItsHashIsTheFilesHash()
    {
        using var log = new LiteDbAuditLog(_database!);
        var recordings = Recordings(log);
        var recording = Start(recordings, "se-2");
        // Past several 1 MiB blocks, in reads of odd sizes (a frame header or a chunk may straddle a block's end).
        var random = new Random(7);
        var fromHostBytes = new byte[3 * 1024 * 1024 + 12_345];
        var fromSupporterBytes = new byte[2 * 1024 * 1024 + 777];
        random.NextBytes(fromHostBytes);
        random.NextBytes(fromSupporterBytes);
        using var fromHost = new MemoryStream(fromHostBytes);
        using var fromSupporter = new MemoryStream(fromSupporterBytes);
        var (supporter, host) = recording.Tap(fromSupporter, fromHost);

        await Task.WhenAll(DrainAsync(host, 65_521), DrainAsync(supporter, 4_093));
        await recordings.CompleteAsync(recording, CancellationToken.None);
        var bytes = await File.ReadAllBytesAsync(recording.Path);
        var frames = Frames(bytes);
        var saved = await log.LastAsync(CancellationToken.None);

        frames.Where(f => f.Direction == 'S').SelectMany(f => f.Bytes).Should().Equal(fromHostBytes);
        frames.Where(f => f.Direction == 'C').SelectMany(f => f.Bytes).Should().Equal(fromSupporterBytes);
        saved!.Entry.Details!["sha256"].Should().Be(Convert.ToHexStringLower(SHA256.HashData(bytes)), "the hash in the trail is the hash of the file as written");
        saved.Entry.Details["stream-bytes"].Should().Be((fromHostBytes.Length + fromSupporterBytes.Length).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Recording_ReadsOfOneDirectionInQuickSuccession_JoinOneFrame_WithEveryByteInOrder()
    {
        using var log = new LiteDbAuditLog(_database!);
        var recordings = Recordings(log);
        var recording = Start(recordings, "se-4");
        var fromHostBytes = new byte[100 * 4096];
        new Random(4).NextBytes(fromHostBytes);
        using var fromHost = new MemoryStream(fromHostBytes);
        using var fromSupporter = new MemoryStream("C"u8.ToArray());
        var (supporter, host) = recording.Tap(fromSupporter, fromHost);

        // As Kestrel hands a busy relay its bytes: 4 KiB per read, one read after the other.
        await DrainAsync(host, 4096);
        await DrainAsync(supporter, 4096);
        await recordings.CompleteAsync(recording, CancellationToken.None);
        var frames = Frames(await File.ReadAllBytesAsync(recording.Path));

        frames.Where(f => f.Direction == 'S').SelectMany(f => f.Bytes).Should().Equal(fromHostBytes);
        frames.Count(f => f.Direction == 'S').Should().BeLessThan(50, "100 reads within a few milliseconds take a handful of frames, not one each");
        frames[^1].Direction.Should().Be('C', "the other direction starts its own frame, in order");
    }

    [Fact]
    public async Task Recording_OfAQuietScreen_IsOnDiskWithinAboutASecond_BeforeItsBlockIsFull_SoAKillLosesLittle()
    {
        using var log = new LiteDbAuditLog(_database!);
        var recordings = Recordings(log);
        await using var recording = Start(recordings, "se-3");
        // Far less than a block, and not a whole number of pages.
        var fromHostBytes = new byte[10_000];
        new Random(3).NextBytes(fromHostBytes);
        using var fromHost = new MemoryStream(fromHostBytes);
        using var fromSupporter = new MemoryStream();
        var (_, host) = recording.Tap(fromSupporter, fromHost);
        await DrainAsync(host, 6_000);

        byte[] onDisk = [];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            // Read while the recording is still open, as the next start finds it after a kill.
            await using (var read = new FileStream(recording.PartialPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            {
                onDisk = new byte[read.Length];
                await read.ReadExactlyAsync(onDisk);
            }

            if (FramedBytes(onDisk) == fromHostBytes.Length)
            {
                break;
            }

            await Task.Delay(100);
        }

        Frames(onDisk).Where(f => f.Direction == 'S').SelectMany(f => f.Bytes).Should().Equal(fromHostBytes, "every byte recorded is on disk although the 1 MiB block is far from full");
    }

    [Fact]
    public async Task DeleteOlderThan_RemovesOnlyExpiredRecordings_AndAuditsEachWithTheHashOfWhatWasDeleted()
    {
        using var log = new LiteDbAuditLog(_database!);
        var recordings = Recordings(log);
        var old = Path.Combine(recordings.Root, "2026-07", "se-old-st-1.psrec");
        var recent = Path.Combine(recordings.Root, "2026-11", "se-new-st-2.psrec");
        Directory.CreateDirectory(Path.GetDirectoryName(old)!);
        Directory.CreateDirectory(Path.GetDirectoryName(recent)!);
        await File.WriteAllTextAsync(old, "PSREC/1\nold");
        await File.WriteAllTextAsync(recent, "PSREC/1\nnew");
        File.SetLastWriteTimeUtc(old, _clock.GetUtcNow().AddDays(-100).UtcDateTime);
        File.SetLastWriteTimeUtc(recent, _clock.GetUtcNow().AddDays(-1).UtcDateTime);

        var deleted = await recordings.DeleteOlderThanAsync(_clock.GetUtcNow().AddDays(-90), CancellationToken.None);
        var audited = await log.LastAsync(CancellationToken.None);

        deleted.Should().Be(1);
        File.Exists(old).Should().BeFalse();
        File.Exists(recent).Should().BeTrue();
        audited!.Entry.Action.Should().Be("recording.deleted");
        audited.Entry.Target.Should().Be("2026-07/se-old-st-1.psrec");
        audited.Entry.Details!["sha256"].Should().Be(Convert.ToHexStringLower(SHA256.HashData("PSREC/1\nold"u8)));
    }

    [Theory]
    [InlineData("../privateserver.db")]
    [InlineData("2026-11/../../keys/db.key")]
    [InlineData("2026-11/se-1.psrec/../../../keys/master.key")]
    [InlineData("/etc/passwd")]
    [InlineData("2026-11/se-1.txt")]
    [InlineData("2026-11/missing.psrec")]
    [InlineData("")]
    public void Find_AnythingButAnExistingRecording_IsNothing(string name)
    {
        using var log = new LiteDbAuditLog(_database!);
        var recordings = Recordings(log);
        Directory.CreateDirectory(Path.Combine(recordings.Root, "2026-11"));
        File.WriteAllText(Path.Combine(recordings.Root, "2026-11", "se-1.psrec"), "PSREC/1\n");

        var found = recordings.Find(name);
        var real = recordings.Find("2026-11/se-1.psrec");

        found.Should().BeNull();
        real.Should().Be(Path.Combine(recordings.Root, "2026-11", "se-1.psrec"));
    }

    private ScreenRecordings Recordings(LiteDbAuditLog log) =>
        new(_temp.Folder, new AuditTrail(log, _clock, NullLogger<AuditTrail>.Instance), _clock, NullLogger<ScreenRecordings>.Instance);

    /// <summary>Starts recording a new screen stream of session <paramref name="sessionId"/> (group policy: record).</summary>
    private ScreenRecording Start(ScreenRecordings recordings, string sessionId)
    {
        var (stream, _, _) = new RelayRendezvous().Create(sessionId, "screen", "h-1", "alice", _clock.GetUtcNow(), CancellationToken.None, record: true);
        return recordings.Start(stream)!;
    }

    private static async Task DrainAsync(Stream half, int chunk)
    {
        var buffer = new byte[chunk];
        while (await half.ReadAsync(buffer) > 0)
        {
        }
    }

    public void Dispose()
    {
        _database?.Dispose();
        _temp.Dispose();
    }

    /// <summary>How many bytes the whole frames of a file hold; -1 while the last frame is still being written.</summary>
    private static int FramedBytes(byte[] file)
    {
        try
        {
            return Frames(file).Sum(f => f.Bytes.Length);
        }
        catch (ArgumentOutOfRangeException)
        {
            return -1;
        }
    }

    /// <summary>The frames after the two header lines: direction, microseconds, bytes.</summary>
    private static List<(char Direction, long Micros, byte[] Bytes)> Frames(byte[] file)
    {
        var at = Array.IndexOf(file, (byte)'\n', Array.IndexOf(file, (byte)'\n') + 1) + 1;
        var frames = new List<(char, long, byte[])>();
        while (at < file.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(at + 9));
            frames.Add(((char)file[at], BinaryPrimitives.ReadInt64BigEndian(file.AsSpan(at + 1)), file.AsSpan(at + 13, length).ToArray()));
            at += 13 + length;
        }

        return frames;
    }
}
