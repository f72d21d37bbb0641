using System.Buffers.Binary;
using System.Text.RegularExpressions;
using Safemount.Ext4.Storage;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Journal;

/// <summary>
/// Journals written by debugfs (journal_open -c -v N / journal_write / journal_close) for the
/// formats the kernel does not produce on its own: tag checksums v2 (16-bit), v1 crc32 commit
/// checksums, no checksums at all, with 32- and 64-bit tags; each journal has an escaped block
/// (its first four bytes are the jbd2 magic), a revoke record cancelling a block of an earlier
/// transaction, and a block logged twice. Oracles: the expected file contents (computed here),
/// e2fsck -E journal_only byte for byte, e2fsck -fn, and an untouched image after a read-only open.
/// </summary>
public partial class CraftedJournalTests
{
    public static IEnumerable<TestCaseData> Formats()
    {
        yield return new TestCaseData("-b 1024 -O ^64bit", "-c -v 2", "journal_checksum_v2", true).SetName("Crafted_1k_32bitTags_CsumV2");
        yield return new TestCaseData("-b 4096", "-c -v 2", "journal_64bit journal_checksum_v2", true).SetName("Crafted_4k_64bitTags_CsumV2");
        yield return new TestCaseData("-b 1024", "-c -v 3", "journal_64bit journal_checksum_v3", true).SetName("Crafted_1k_64bitTags_CsumV3");
        yield return new TestCaseData("-b 4096 -O ^metadata_csum,^64bit", "", "journal_incompat_revoke", true).SetName("Crafted_4k_32bitTags_NoChecksums");
        // debugfs's v1 checksum of a revoke-only transaction disagrees with the recovery code
        // (see V1CommitChecksumMismatchIsRefused), so the v1 journal has no revoke transaction.
        yield return new TestCaseData("-b 4096 -O ^metadata_csum", "-c", "journal_checksum", false).SetName("Crafted_4k_V1Crc32Commits");
    }

    [TestCaseSource(nameof(Formats))]
    public void CraftedTransactionsReplayLikeE2fsck(string mkfs, string journalOpen, string journalFeatures, bool revoke)
    {
        int bs = mkfs.Contains("-b 1024") ? 1024 : 4096;
        using var image = BuildImage(mkfs, bs);
        ulong[] f1 = [.. Enumerable.Range(0, 4).Select(i => Bmap(image.ImagePath, "/file1", i))];
        ulong f2 = Bmap(image.ImagePath, "/file2", 0);
        var payload = Payload(image, bs, out string payloadPath, out string threePath);

        // tx 1: file1 blocks 0,1,2 <- payload 0,1,2. tx 2 (revoke-only): revoke file1 block 1.
        // tx 3: file2 block 0 <- payload 0; file1 blocks 2 and 3 <- payload 2 (block 2 logged twice).
        string revokeTx = revoke ? $"journal_write -r {f1[1]} /dev/null" : "";
        WriteJournal(image, $"""
            journal_open {journalOpen}
            journal_write -b {f1[0]},{f1[1]},{f1[2]} {payloadPath}
            {revokeTx}
            journal_write -b {f2},{f1[2]},{f1[3]} {threePath}
            journal_close

            """);

        string header = Tool.Check("dumpe2fs", "-h", image.ImagePath);
        Assert.That(header, Does.Match(@"Filesystem features:.*needs_recovery"));
        string features = JournalFeatures().Match(header).Groups[1].Value;
        Assert.That(features.Split(' ', StringSplitOptions.RemoveEmptyEntries), Is.SupersetOf(journalFeatures.Split(' ')));
        string dump = Tool.Debugfs(image.ImagePath, "logdump -a");
        if (revoke)
        {
            Assert.That(dump, Does.Contain($"Revoke FS block {f1[1]}"));
        }

        Assert.That(dump, Does.Match($@"FS block {f1[0]} logged at journal block \d+ \(flags 0x[0-9a-f]*[13579bdf]\)"), "escaped block");

        var expected1 = Enumerable.Repeat((byte)'A', 4 * bs).ToArray();
        payload.AsSpan(0, bs).CopyTo(expected1);
        if (!revoke)
        {
            payload.AsSpan(bs, bs).CopyTo(expected1.AsSpan(bs));
        }

        payload.AsSpan(2 * bs, bs).CopyTo(expected1.AsSpan(2 * bs));
        payload.AsSpan(2 * bs, bs).CopyTo(expected1.AsSpan(3 * bs));
        var expected2 = Enumerable.Repeat((byte)'B', 2 * bs).ToArray();
        payload.AsSpan(0, bs).CopyTo(expected2);
        string summary = revoke ? "transactions 1..3, 4 blocks, 1 revoked" : "transactions 1..2, 5 blocks, 0 revoked";

        string before = DirtyImage.Sha256(image.ImagePath);
        using (var opened = image.Open())
        {
            Assert.That(opened.Volume.Warnings, Has.Some.EndsWith(summary));
            Assert.That(PathWalk.ReadAll(opened.Volume, PathWalk.Inode(opened.Volume, "file1")), Is.EqualTo(expected1));
            Assert.That(PathWalk.ReadAll(opened.Volume, PathWalk.Inode(opened.Volume, "file2")), Is.EqualTo(expected2));
        }

        Assert.That(DirtyImage.Sha256(image.ImagePath), Is.EqualTo(before), "a read-only replay never writes the image");

        string byFsck = image.Scratch("e2fsck.img");
        File.Copy(image.ImagePath, byFsck);
        var fsck = Tool.Run("timeout", ["120", "e2fsck", "-E", "journal_only", "-y", byFsck], 150);
        Assert.That(fsck.ExitCode, Is.EqualTo(0).Or.EqualTo(1), fsck.Stdout + fsck.Stderr);
        string byEngine = image.Scratch("engine.img");
        File.Copy(image.ImagePath, byEngine);
        using (var handle = File.OpenHandle(byEngine, FileMode.Open, FileAccess.ReadWrite))
        using (var device = new FileBlockDevice(handle, RandomAccess.GetLength(handle), writable: true))
        using (var v = Ext4Volume.Open(device, new Ext4OpenOptions { ReadOnly = false }))
        {
            Assert.That(v.Warnings, Has.Some.EndsWith(summary));
            Assert.That(PathWalk.ReadAll(v, PathWalk.Inode(v, "file1")), Is.EqualTo(expected1));
        }

        ImageDiff.AssertSameExceptSuperblockBookkeeping(byFsck, byEngine);
        Assert.That(Tool.FsckClean(byEngine, out string output), Is.True, output);
        using (var again = TestImage.OpenPath(byEngine))
        {
            Assert.That(again.Volume.Warnings, Is.Empty, "nothing left to replay");
            Assert.That(PathWalk.ReadAll(again.Volume, PathWalk.Inode(again.Volume, "file2")), Is.EqualTo(expected2));
        }
    }

    /// <summary>
    /// A v1 (crc32_be) journal whose second transaction's commit checksum does not cover what
    /// recovery sums (debugfs sums a revoke-only transaction differently): e2fsck replays
    /// transaction 1 and reports transaction 2 corrupt; the kernel refuses such a journal
    /// (j_failed_commit). The engine refuses it too, before writing anything, in both modes.
    /// </summary>
    [Test]
    public void V1CommitChecksumMismatchIsRefused()
    {
        using var image = BuildImage("-b 4096 -O ^metadata_csum", 4096);
        ulong b = Bmap(image.ImagePath, "/file1", 0);
        Payload(image, 4096, out string payloadPath, out _);
        WriteJournal(image, $"""
            journal_open -c
            journal_write -b {b} {payloadPath}
            journal_write -r {b + 1} /dev/null
            journal_write -b {b + 1} {payloadPath}
            journal_close

            """);
        string byFsck = image.Scratch("e2fsck.img");
        File.Copy(image.ImagePath, byFsck);
        var fsck = Tool.Run("timeout", ["120", "e2fsck", "-E", "journal_only", "-y", byFsck], 150);
        Assert.That(fsck.Stdout + fsck.Stderr, Does.Contain("Journal transaction 2 was corrupt"));

        var before = File.ReadAllBytes(image.ImagePath);
        foreach (bool readOnly in new[] { true, false })
        {
            using var handle = File.OpenHandle(image.ImagePath, FileMode.Open, FileAccess.ReadWrite);
            using var device = new FileBlockDevice(handle, RandomAccess.GetLength(handle), writable: true);
            var e = Assert.Throws<Ext4ChecksumException>(() => Ext4Volume.Open(device, new Ext4OpenOptions { ReadOnly = readOnly }));
            Assert.That(e!.Message, Is.EqualTo("journal transaction 2 is corrupt (its commit block fails its checksum)"));
        }

        Assert.That(File.ReadAllBytes(image.ImagePath), Is.EqualTo(before), "a refused replay writes nothing");
    }

    /// <summary>
    /// A journal aborted with an error (s_errno -EIO, set here in a debugfs-written journal):
    /// e2fsck and the kernel mark the replayed file system with errors and clear the journal's
    /// s_errno; the engine's device replay must match e2fsck byte for byte, and a read-only open
    /// says so in its warnings.
    /// </summary>
    [Test]
    public void JournalErrnoMarksTheFileSystemWithErrors()
    {
        using var image = BuildImage("-b 4096", 4096);
        ulong b = Bmap(image.ImagePath, "/file1", 0);
        Payload(image, 4096, out string payloadPath, out _);
        WriteJournal(image, $"""
            journal_open -c -v 3
            journal_write -b {b} {payloadPath}
            journal_close

            """);
        long jsb = (long)Bmap(image.ImagePath, "<8>", 0) * 4096;
        var sb = image.ReadImage(jsb, 1024);
        BinaryPrimitives.WriteInt32BigEndian(sb.AsSpan(0x20), -5);
        BinaryPrimitives.WriteUInt32BigEndian(sb.AsSpan(0xFC), 0);
        BinaryPrimitives.WriteUInt32BigEndian(sb.AsSpan(0xFC), Safemount.Ext4.Format.Crc32c.Append(~0u, sb));
        image.Patch(jsb, sb);
        Assert.That(Tool.Check("dumpe2fs", "-h", image.ImagePath), Does.Match(@"Journal errno:\s+-5"));

        using (var opened = image.Open())
        {
            Assert.That(opened.Volume.Warnings, Has.Member("the journal recorded error -5; the file system is marked with errors"));
        }

        string byFsck = image.Scratch("e2fsck.img");
        File.Copy(image.ImagePath, byFsck);
        var fsck = Tool.Run("timeout", ["120", "e2fsck", "-E", "journal_only", "-y", byFsck], 150);
        Assert.That(fsck.ExitCode, Is.EqualTo(0).Or.EqualTo(1), fsck.Stdout + fsck.Stderr);
        string byEngine = image.Scratch("engine.img");
        File.Copy(image.ImagePath, byEngine);
        using (var handle = File.OpenHandle(byEngine, FileMode.Open, FileAccess.ReadWrite))
        using (var device = new FileBlockDevice(handle, RandomAccess.GetLength(handle), writable: true))
        using (Ext4Volume.Open(device, new Ext4OpenOptions { ReadOnly = false }))
        {
        }

        ImageDiff.AssertSameExceptSuperblockBookkeeping(byFsck, byEngine);
        string header = Tool.Check("dumpe2fs", "-h", byEngine);
        Assert.That(header, Does.Match(@"Filesystem state:\s+clean with errors"));
        Assert.That(header, Does.Not.Contain("Journal errno"));
    }

    /// <summary>A hole in the journal inode (debugfs punch) refuses the replay with the block named.</summary>
    [Test]
    public void HoleInTheJournalInodeIsRefused()
    {
        using var image = SingleTransactionImage();
        var r = Tool.Run("debugfs", ["-w", "-R", "punch <8> 500 500", image.ImagePath]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Stderr);
        Assert.That(Tool.Debugfs(image.ImagePath, "ex <8>"), Does.Contain(" 501 - "), "the journal now has a hole at 500");
        Assert.That(Refusal(image), Is.EqualTo("journal inode 8 has a hole at block 500"));
    }

    /// <summary>An external journal (s_journal_inum 0, as with mkfs -J device=) is refused by name.</summary>
    [Test]
    public void ExternalJournalIsRefusedByName()
    {
        using var image = SingleTransactionImage();
        var r = Tool.Run("debugfs", ["-w", "-R", "ssv journal_inum 0", image.ImagePath]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Stderr);
        Assert.That(Refusal(image), Is.EqualTo(
            "journal needs recovery but the journal is external (journal_dev); external journals are not supported"));
    }

    /// <summary>A read-write open of a device that cannot write replays into memory and stays read-only.</summary>
    [Test]
    public void ReadWriteOpenOfAReadOnlyDeviceReplaysInMemory()
    {
        using var image = SingleTransactionImage();
        var before = File.ReadAllBytes(image.ImagePath);
        using (var handle = File.OpenHandle(image.ImagePath, FileMode.Open, FileAccess.Read))
        using (var device = new FileBlockDevice(handle, RandomAccess.GetLength(handle)))
        {
            Assert.That(device.CanWrite, Is.False);
            Assert.Throws<Ext4IOException>(() => device.Write(0, new byte[1]));
            using var v = Ext4Volume.Open(device, new Ext4OpenOptions { ReadOnly = false });
            Assert.That(v.IsReadOnly, Is.True);
            Assert.That(v.Warnings, Has.Some.StartsWith("journal replayed into memory (read-only; the device was not modified)"));
        }

        Assert.That(File.ReadAllBytes(image.ImagePath), Is.EqualTo(before));
    }

    /// <summary>
    /// noload (ReplayJournal = false): the device's own state, read-only, with a warning; the
    /// logged blocks are not seen. A read-write open without replay is refused.
    /// </summary>
    [Test]
    public void NoLoadServesTheDeviceAsItIs()
    {
        using var image = SingleTransactionImage();
        var before = File.ReadAllBytes(image.ImagePath);
        using (var handle = File.OpenHandle(image.ImagePath, FileMode.Open, FileAccess.ReadWrite))
        using (var device = new FileBlockDevice(handle, RandomAccess.GetLength(handle), writable: true))
        {
            using (var v = Ext4Volume.Open(device, new Ext4OpenOptions { ReplayJournal = false }))
            {
                Assert.That(v.Warnings, Is.EqualTo(new[]
                {
                    "journal not replayed (noload): committed transactions are missing and the file system may be inconsistent",
                }));
                Assert.That(PathWalk.ReadAll(v, PathWalk.Inode(v, "file1")), Is.EqualTo(Enumerable.Repeat((byte)'A', 4 * 4096).ToArray()));
            }

            var e = Assert.Throws<Ext4MountException>(() => Ext4Volume.Open(device, new Ext4OpenOptions { ReadOnly = false, ReplayJournal = false }));
            Assert.That(e!.Message, Is.EqualTo("the journal needs recovery: a read-write open must replay it (noload needs read-only)"));
        }

        Assert.That(File.ReadAllBytes(image.ImagePath), Is.EqualTo(before));
    }

    private static TestImage SingleTransactionImage()
    {
        var image = BuildImage("-b 4096", 4096);
        ulong b = Bmap(image.ImagePath, "/file1", 0);
        Payload(image, 4096, out string payloadPath, out _);
        WriteJournal(image, $"""
            journal_open -c -v 3
            journal_write -b {b} {payloadPath}
            journal_close

            """);
        return image;
    }

    /// <summary>The Ext4MountException message of a read-only open; the image must stay untouched.</summary>
    private static string Refusal(TestImage image)
    {
        var before = File.ReadAllBytes(image.ImagePath);
        var e = Assert.Throws<Ext4MountException>(() => image.Open());
        Assert.That(File.ReadAllBytes(image.ImagePath), Is.EqualTo(before));
        return e!.Message;
    }

    private static TestImage BuildImage(string mkfs, int bs) => TestImage.Build(src =>
    {
        File.WriteAllBytes(Path.Combine(src, "file1"), Enumerable.Repeat((byte)'A', 4 * bs).ToArray());
        File.WriteAllBytes(Path.Combine(src, "file2"), Enumerable.Repeat((byte)'B', 2 * bs).ToArray());
    }, "16M", mkfs.Split(' '));

    /// <summary>Three blocks: block 0 starts with JBD2_MAGIC_NUMBER (so the log must escape it), 1 and 2 random; and a file of blocks 0, 2, 2.</summary>
    private static byte[] Payload(TestImage image, int bs, out string payloadPath, out string threePath)
    {
        var payload = new byte[3 * bs];
        new Random(7).NextBytes(payload);
        BinaryPrimitives.WriteUInt32BigEndian(payload, 0xC03B3998);
        payloadPath = image.Scratch("payload");
        File.WriteAllBytes(payloadPath, payload);
        threePath = image.Scratch("three");
        File.WriteAllBytes(threePath, [.. payload.AsSpan(0, bs), .. payload.AsSpan(2 * bs, bs), .. payload.AsSpan(2 * bs, bs)]);
        return payload;
    }

    private static void WriteJournal(TestImage image, string commands)
    {
        string cmds = image.Scratch("cmds");
        File.WriteAllText(cmds, commands);
        var r = Tool.Run("debugfs", ["-w", "-f", cmds, image.ImagePath]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Stderr);
    }

    private static ulong Bmap(string imagePath, string file, int block) =>
        ulong.Parse(Tool.Debugfs(imagePath, $"bmap {file} {block}").Trim());

    [GeneratedRegex("Journal features:(.*)")]
    private static partial Regex JournalFeatures();
}
