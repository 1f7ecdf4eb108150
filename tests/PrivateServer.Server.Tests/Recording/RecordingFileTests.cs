using System.Security.Cryptography;
using PrivateServer.Server.Recording;

namespace PrivateServer.Server.Tests.Recording;

public sealed class RecordingFileTests : IDisposable
{
    private const int Block = 1024 * 1024;
    private readonly string _folder = Directory.CreateTempSubdirectory("ps-recording-file-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4096)]
    [InlineData(Block - 1)]
    [InlineData(Block)]
    [InlineData(Block + 1)]
    [InlineData(2 * Block)]
    [InlineData((3 * Block) - 4095)]
    public async Task Hash_OfAFileReadBackInBlocks_IsTheSha256OfEveryByte(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        var path = Path.Combine(_folder, "file.psrec");
        await File.WriteAllBytesAsync(path, bytes);

        var (hash, hashed) = await RecordingFile.HashAsync(path, CancellationToken.None);

        Convert.ToHexStringLower(hash).Should().Be(Convert.ToHexStringLower(SHA256.HashData(bytes)));
        hashed.Should().Be(length);
    }

    [Fact]
    public async Task Written_InOddAppends_ThenCompleted_HoldsEveryByteInOrder_AndHashesToTheSameAsTheBytes()
    {
        var path = Path.Combine(_folder, "written.psrec");
        var expected = new MemoryStream();
        var random = new Random(11);
        await using (var file = new RecordingFile(path))
        {
            file.Begin("PSREC/1\n"u8);
            expected.Write("PSREC/1\n"u8);
            // Ends exactly on a block boundary, so the last block is whole and the tail empty.
            for (var left = (2 * Block) - 8; left > 0;)
            {
                var chunk = new byte[Math.Min(left, random.Next(1, 70_000))];
                random.NextBytes(chunk);
                await file.AppendAsync(chunk, CancellationToken.None);
                expected.Write(chunk);
                left -= chunk.Length;
            }

            await file.CompleteAsync();
            file.Length.Should().Be(2 * Block);
        }

        var written = await File.ReadAllBytesAsync(path);
        var (hash, _) = await RecordingFile.HashAsync(path, CancellationToken.None);

        written.Should().Equal(expected.ToArray());
        Convert.ToHexStringLower(hash).Should().Be(Convert.ToHexStringLower(SHA256.HashData(written)));
    }

    [Fact]
    public async Task Flushed_WhileABlockFills_ThenWrittenOnPastTheBlocksEnd_HoldsEveryByteInOrder()
    {
        var path = Path.Combine(_folder, "flushed.psrec");
        var expected = new MemoryStream();
        var random = new Random(5);
        await using (var file = new RecordingFile(path))
        {
            file.Begin("PSREC/1\n"u8);
            expected.Write("PSREC/1\n"u8);
            // Flushes after odd amounts (not whole pages), across two block boundaries; what a flush wrote through the cache
            // is written again past it with its block.
            foreach (var size in new[] { 10_000, 5, 4_091, 1_100_000, 3, 900_000, 77_777, 12 })
            {
                var chunk = new byte[size];
                random.NextBytes(chunk);
                await file.AppendAsync(chunk, CancellationToken.None);
                expected.Write(chunk);
                await file.FlushAsync(CancellationToken.None);
                await Task.Delay(20);
            }

            await file.CompleteAsync();
        }

        var written = await File.ReadAllBytesAsync(path);
        var (hash, length) = await RecordingFile.HashAsync(path, CancellationToken.None);

        written.Should().Equal(expected.ToArray());
        length.Should().Be(expected.Length);
        Convert.ToHexStringLower(hash).Should().Be(Convert.ToHexStringLower(SHA256.HashData(written)));
    }

    [Fact]
    public async Task Extending_AFrame_AddsToItsLength_ButNotOnceAFlushWroteItsHeader_NorPastTheBlock()
    {
        var path = Path.Combine(_folder, "extended.psrec");
        await using var file = new RecordingFile(path);
        file.Begin("PSREC/1\n"u8);
        var lengthAt = file.Length + 9;
        await file.AppendAsync(Frame('S', 3), CancellationToken.None);
        await file.AppendAsync("abc"u8.ToArray(), CancellationToken.None);

        var extended = file.TryExtend(lengthAt, file.Length, "def"u8);
        var elsewhere = file.TryExtend(lengthAt, file.Length - 1, "x"u8);
        var tooLarge = file.TryExtend(lengthAt, file.Length, new byte[Block]);
        await file.FlushAsync(CancellationToken.None);
        var afterFlush = file.TryExtend(lengthAt, file.Length, "ghi"u8);
        await file.CompleteAsync();
        var written = await File.ReadAllBytesAsync(path);

        (extended, elsewhere, tooLarge, afterFlush).Should().Be((true, false, false, false));
        written.Should().Equal([.. "PSREC/1\n"u8.ToArray(), .. Frame('S', 6), .. "abcdef"u8.ToArray()], "the frame's length covers what was added, nothing else changed");
    }

    [Fact]
    public async Task Hash_OfAFileThatIsNotThere_FailsClearly()
    {
        var missing = Path.Combine(_folder, "missing.psrec");

        var hashing = () => RecordingFile.HashAsync(missing, CancellationToken.None);

        await hashing.Should().ThrowAsync<FileNotFoundException>();
    }

    private static byte[] Frame(char direction, int length)
    {
        var header = new byte[13];
        header[0] = (byte)direction;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(9), length);
        return header;
    }
}
