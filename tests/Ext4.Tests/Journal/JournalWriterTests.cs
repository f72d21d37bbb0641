using System.Buffers.Binary;
using Safemount.Ext4.Format;
using Safemount.Ext4.Journal;
using Safemount.Ext4.Storage;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Journal;

/// <summary>
/// The jbd2 writer's log against two replayers, the engine's own (JournalRecovery through a
/// read-write open) and e2fsck's (-E journal_only): escaped blocks, revoke records and their
/// transaction ordering, and the allocator's refusal to reuse blocks freed by an uncommitted
/// transaction. Each test commits through a <see cref="JournalWriter"/> or a volume, abandons it
/// (a crash), replays a copy each way and compares the blocks that matter.
/// </summary>
[TestFixture]
public sealed class JournalWriterTests
{
    private static readonly string[] s_layouts4k = ["-O", "metadata_csum,64bit"];
    private static readonly string[] s_layouts1k = ["-b", "1024", "-O", "^metadata_csum,^64bit"];

    public static IEnumerable<TestCaseData> Layouts()
    {
        yield return new TestCaseData((object)s_layouts4k).SetName("Csum v3, 64bit, 4k");
        yield return new TestCaseData((object)s_layouts1k).SetName("No checksums, 32bit, 1k");
    }

    [TestCaseSource(nameof(Layouts))]
    public void EscapedBlocksAndRevokesReplayAlikeInEngineAndE2fsck(string[] mkfs)
    {
        using var image = TestImage.Build(src => File.WriteAllText(Path.Combine(src, "a"), "a"), "16M", mkfs);
        ulong escaped, revoked, relogged;
        int blockSize;
        byte[] magicBlock, oldCopy, dataAfterFree, newest;
        using (var ro = image.Open())
        using (var handle = File.OpenHandle(image.ImagePath, FileMode.Open, FileAccess.ReadWrite))
        using (var device = new FileBlockDevice(handle, RandomAccess.GetLength(handle), writable: true))
        {
            var v = ro.Volume;
            blockSize = (int)v.BlockSize;

            // Three free blocks near the end of the volume: replay must not care what they are.
            escaped = v.Sb.s_blocks_count - 3;
            revoked = v.Sb.s_blocks_count - 2;
            relogged = v.Sb.s_blocks_count - 1;
            magicBlock = Pattern(blockSize, 1);
            BinaryPrimitives.WriteUInt32BigEndian(magicBlock, JournalLayout.JBD2_MAGIC_NUMBER);
            oldCopy = Pattern(blockSize, 2);
            dataAfterFree = Pattern(blockSize, 3);
            newest = Pattern(blockSize, 4);

            var writer = JournalWriter.Open(v, device);
            writer.Start();
            var none = new List<(ulong, uint)>();
            Assert.That(writer.Commit([(escaped, magicBlock), (revoked, oldCopy), (relogged, oldCopy)], none, Ignore), Is.True);

            // Transaction 2 frees 'revoked' and 'relogged' (both have live copies: revoke records).
            Assert.That(writer.Commit([], [(revoked, 2)], Ignore), Is.True);

            // 'revoked' is then reused for file data written in place; 'relogged' is logged again
            // after the revoke, so its newest copy must win over the revoke.
            device.Write((long)revoked * blockSize, dataAfterFree);
            Assert.That(writer.Commit([(relogged, newest)], none, Ignore), Is.True);
            device.Flush();
            Assert.That(writer.PendingCount, Is.EqualTo(2), "the escaped and the relogged blocks wait for their checkpoint");
        }

        // A crash: the file system is marked needs_recovery as the volume would have marked it.
        SetNeedsRecovery(image);
        string logdump = Tool.Debugfs(image.ImagePath, "logdump");
        Assert.That(logdump, Does.Contain("revoke table"), logdump);

        var (byFsck, byEngine) = ReplayedCopies(image);

        foreach (string path in new[] { byFsck, byEngine })
        {
            string who = path == byFsck ? "e2fsck" : "engine";
            Assert.That(ReadBlock(path, escaped, blockSize), Is.EqualTo(magicBlock), $"{who}: the escaped block gets its magic back");
            Assert.That(ReadBlock(path, revoked, blockSize), Is.EqualTo(dataAfterFree), $"{who}: a revoked block is not replayed over later data");
            Assert.That(ReadBlock(path, relogged, blockSize), Is.EqualTo(newest), $"{who}: a copy logged after its revoke is replayed");
            Assert.That(Tool.FsckClean(path, out string output), Is.True, $"{who}: {output}");
        }
    }

    /// <summary>
    /// One transaction of 700 blocks, several times the writer's staging buffer (256 KiB: 64
    /// blocks at 4 KiB, 256 at 1 KiB), with escaped blocks on both sides of each buffer boundary:
    /// e2fsck and the engine replay every block as committed (csum v3: tag checksums computed
    /// from the cached versions, before the copies are staged, must match the logged copies).
    /// </summary>
    [TestCaseSource(nameof(Layouts))]
    public void ATransactionLargerThanTheStagingBufferReplaysAlike(string[] mkfs)
    {
        const int Count = 700;
        using var image = TestImage.Build(src => File.WriteAllText(Path.Combine(src, "a"), "a"), "32M", mkfs);
        int blockSize;
        var committed = new List<(ulong Block, byte[] Data)>();
        using (var ro = image.Open())
        using (var handle = File.OpenHandle(image.ImagePath, FileMode.Open, FileAccess.ReadWrite))
        using (var device = new FileBlockDevice(handle, RandomAccess.GetLength(handle), writable: true))
        {
            var v = ro.Volume;
            blockSize = (int)v.BlockSize;
            var free = FreeBlocks(image.ImagePath, Count, v.Sb.s_blocks_count / 2);
            int stage = (256 << 10) / blockSize;
            for (int i = 0; i < free.Count; i++)
            {
                byte[] data = Pattern(blockSize, 100 + i);

                // Log positions: revoke none, one descriptor per ~250 tags; escaped blocks land at and around every multiple of the stage.
                if (i % stage is 0 or 1 || i % stage == stage - 1 || i % 97 == 0)
                {
                    BinaryPrimitives.WriteUInt32BigEndian(data, JournalLayout.JBD2_MAGIC_NUMBER);
                }

                committed.Add((free[i], data));
            }

            var writer = JournalWriter.Open(v, device);
            writer.Start();
            Assert.That(writer.Commit(committed, [], Ignore), Is.True);
            Assert.That(writer.PendingCount, Is.EqualTo(Count));
        }

        SetNeedsRecovery(image);
        var (byFsck, byEngine) = ReplayedCopies(image);

        foreach (string path in new[] { byFsck, byEngine })
        {
            string who = path == byFsck ? "e2fsck" : "engine";
            foreach (var (block, data) in committed)
            {
                Assert.That(ReadBlock(path, block, blockSize), Is.EqualTo(data), $"{who}: block {block}");
            }

            Assert.That(Tool.FsckClean(path, out string output), Is.True, $"{who}: {output}");
        }
    }

    [TestCaseSource(nameof(Layouts))]
    public void ALiveLogWithoutNeedsRecoveryIsDiscardedAndNeverReplayedLater(string[] mkfs)
    {
        using var image = TestImage.Build(src => File.WriteAllText(Path.Combine(src, "a"), "a"), "16M", mkfs);
        ulong stale;
        int blockSize;
        byte[] staleCopy, before;
        using (var ro = image.Open())
        using (var handle = File.OpenHandle(image.ImagePath, FileMode.Open, FileAccess.ReadWrite))
        using (var device = new FileBlockDevice(handle, RandomAccess.GetLength(handle), writable: true))
        {
            var v = ro.Volume;
            blockSize = (int)v.BlockSize;
            stale = v.Sb.s_blocks_count - 1;
            staleCopy = Pattern(blockSize, 7);
            before = ReadBlock(image.ImagePath, stale, blockSize);

            // A committed transaction in a live log, but power is lost before the superblock says needs_recovery.
            var writer = JournalWriter.Open(v, device);
            writer.Start();
            Assert.That(writer.Commit([(stale, staleCopy)], [], Ignore), Is.True);
        }

        Assert.That(Tool.Check("dumpe2fs", "-h", image.ImagePath), Does.Not.Match(@"features:.*needs_recovery"));
        using (var opened = TestImage.OpenPathWritable(image.ImagePath))
        {
            var v = opened.Volume;
            Assert.That(v.Warnings, Has.Some.Contains("not marked needs_recovery; cleared"));
            Assert.That(v.Create(2, "after"u8, 0x81A4, 0, 0, out _), Is.EqualTo(Ext4Errno.None));
            v.Sync();

            // A crash again, now with needs_recovery: only the new transaction may be replayed.
            File.Copy(image.ImagePath, image.Scratch("crashed.img"));
        }

        string byFsck = image.Scratch("crashed.img");
        string byEngine = image.Scratch("engine.img");
        File.Copy(byFsck, byEngine);
        var fsck = Tool.Run("timeout", ["120", "e2fsck", "-E", "journal_only", "-y", byFsck], 150);
        Assert.That(fsck.ExitCode, Is.EqualTo(0).Or.EqualTo(1), fsck.Stdout + fsck.Stderr);
        using (var opened = TestImage.OpenPathWritable(byEngine))
        {
            Assert.That(opened.Volume.Lookup(opened.Volume.ReadInode(2), "after"u8), Is.Not.Zero);
        }

        foreach (string path in new[] { byFsck, byEngine })
        {
            Assert.That(ReadBlock(path, stale, blockSize), Is.EqualTo(before), $"{path}: the discarded transaction is never replayed");
            Assert.That(Tool.FsckClean(path, out string output), Is.True, output);
        }
    }

    [Test]
    public void BlocksFreedByAnUncommittedTransactionAreNotReusedUntilItCommits()
    {
        using var image = TestImage.Build(src => File.WriteAllBytes(Path.Combine(src, "old"), Pattern(256 * 1024, 9)), "8M", "-O", "metadata_csum");
        using var opened = image.OpenWritable();
        var v = opened.Volume;
        Assert.That(v.IsJournaled, Is.True);
        uint oldIno = v.Lookup(v.ReadInode(2), "old"u8);
        var oldBlocks = Blocks(v, oldIno);
        Assert.That(oldBlocks, Has.Count.EqualTo(256 * 1024 / (int)v.BlockSize));

        Assert.That(v.Unlink(2, "old"u8), Is.EqualTo(Ext4Errno.None));
        Assert.That(v.SpaceWaitsForCommit, Is.True);
        Assert.That(v.Create(2, "new"u8, 0x81A4, 0, 0, out var created), Is.EqualTo(Ext4Errno.None));
        Assert.That(v.WriteFile(created!.Number, 0, Pattern(1 << 20, 5), out int written), Is.EqualTo(Ext4Errno.None));
        Assert.That(written, Is.EqualTo(1 << 20));
        Assert.That(Blocks(v, created.Number).Intersect(oldBlocks), Is.Empty, "a crash now would bring 'old' back: its blocks must hold its data");

        v.Sync();
        Assert.That(v.SpaceWaitsForCommit, Is.False, "the commit made them reusable");
    }

    [Test]
    public void AFullVolumeGetsItsFreedSpaceBackAfterACommit()
    {
        using var image = TestImage.Build(_ => { }, "8M", "-O", "metadata_csum", "-m", "0");
        using var opened = image.OpenWritable();
        var v = opened.Volume;
        Assert.That(v.Create(2, "fill"u8, 0x81A4, 0, 0, out var fill), Is.EqualTo(Ext4Errno.None));
        var chunk = Pattern(1 << 20, 6);
        long offset = 0;
        while (v.WriteFile(fill!.Number, offset, chunk, out int n) == Ext4Errno.None && n == chunk.Length)
        {
            offset += n;
        }

        v.Sync();
        long freeWhenFull = v.FreeClustersCount;
        var filled = Blocks(v, fill.Number);
        Assert.That(v.SetSize(fill.Number, 0), Is.EqualTo(Ext4Errno.None));
        Assert.That(v.FreeClustersCount, Is.GreaterThan(freeWhenFull + (chunk.Length / v.BlockSize)), "the truncate freed more than the next write needs");
        Assert.That(v.Create(2, "next"u8, 0x81A4, 0, 0, out var next), Is.EqualTo(Ext4Errno.None));
        var err = v.WriteFile(next!.Number, 0, chunk, out int first);
        Assert.That(err, Is.EqualTo(Ext4Errno.None).Or.EqualTo(Ext4Errno.ENOSPC));
        Assert.That(first, Is.LessThan(chunk.Length),
            "before the truncate commits its blocks are not reusable: the write runs short (the bridge then commits and retries, as ext4_should_retry_alloc)");
        Assert.That(Blocks(v, next.Number).Intersect(filled), Is.Empty);
        v.Sync();
        Assert.That(v.WriteFile(next.Number, first, chunk.AsSpan(first), out int rest), Is.EqualTo(Ext4Errno.None));
        Assert.That(first + rest, Is.EqualTo(chunk.Length));
        opened.Dispose();
        Assert.That(Tool.FsckClean(image.ImagePath, out string output), Is.True, output);
    }

    private static void Ignore(ulong block, byte[] data)
    {
    }

    private static HashSet<ulong> Blocks(Ext4Volume v, uint ino)
    {
        var inode = v.ReadInode(ino);
        var set = new HashSet<ulong>();
        uint blocks = (uint)((inode.Size + v.BlockSize - 1) / v.BlockSize);
        for (uint l = 0; l < blocks;)
        {
            var run = v.FileData.Map(inode, l, blocks - l);
            for (uint i = 0; i < run.Length && run.Kind == BlockRunKind.Mapped; i++)
            {
                set.Add(run.Physical + i);
            }

            l += Math.Max(run.Length, 1);
        }

        return set;
    }

    /// <summary><paramref name="count"/> free blocks from <paramref name="goal"/> on (debugfs find_free_block).</summary>
    private static List<ulong> FreeBlocks(string image, int count, ulong goal)
    {
        string found = Tool.Debugfs(image, $"ffb {count} {goal}");
        var blocks = found[(found.IndexOf(':', StringComparison.Ordinal) + 1)..]
            .Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries)
            .Select(b => ulong.Parse(b, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.That(blocks, Has.Count.EqualTo(count), found);
        return blocks;
    }

    private static byte[] Pattern(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static string Copy(TestImage image, string name)
    {
        string path = image.Scratch(name);
        File.Copy(image.ImagePath, path);
        return path;
    }

    private static byte[] ReadBlock(string path, ulong block, int blockSize)
    {
        var b = new byte[blockSize];
        using var h = File.OpenHandle(path);
        RandomAccess.Read(h, b, (long)block * blockSize);
        return b;
    }

    /// <summary>Sets INCOMPAT_RECOVER in the primary superblock and re-seals its checksum.</summary>
    private static void SetNeedsRecovery(TestImage image)
    {
        var sb = image.ReadImage(SuperblockLayout.Offset, SuperblockLayout.Size);
        uint incompat = BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(SuperblockLayout.s_feature_incompat));
        BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(SuperblockLayout.s_feature_incompat), incompat | Ext4Features.INCOMPAT_RECOVER);
        if (new Superblock(sb).HasRoCompat(Ext4Features.RO_COMPAT_METADATA_CSUM))
        {
            BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(SuperblockLayout.s_checksum), Crc32c.Append(~0u, sb.AsSpan(0, SuperblockLayout.s_checksum)));
        }

        image.Patch(SuperblockLayout.Offset, sb);
    }

    /// <summary>Two copies of the crashed <paramref name="image"/>, one replayed by e2fsck (journal_only) and one by the engine's open.</summary>
    private static (string ByFsck, string ByEngine) ReplayedCopies(TestImage image)
    {
        string byFsck = Copy(image, "fsck.img");
        var fsck = Tool.Run("timeout", ["120", "e2fsck", "-E", "journal_only", "-y", byFsck], 150);
        Assert.That(fsck.ExitCode, Is.EqualTo(0).Or.EqualTo(1), fsck.Stdout + fsck.Stderr);
        string byEngine = Copy(image, "engine.img");
        using (var opened = TestImage.OpenPathWritable(byEngine))
        {
            Assert.That(opened.Volume.Warnings, Has.Some.StartsWith("journal replayed onto the device"));
        }

        return (byFsck, byEngine);
    }
}
