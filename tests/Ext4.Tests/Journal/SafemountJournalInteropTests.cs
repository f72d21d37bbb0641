using System.Buffers.Binary;
using System.Globalization;
using System.Text.RegularExpressions;
using Safemount.Ext4.Storage;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Journal;

/// <summary>
/// A journal written by safemount and left unreplayed, replayed by the two other implementations
/// of jbd2 recovery: the kernel (a loop mount of a copy) and e2fsck (<c>-E journal_only</c>,
/// which replays the journal and repairs nothing else), and by safemount itself.
///
/// Per layout: the engine opens a fresh image read-write on a <see cref="PowerCutDevice"/> and
/// runs <see cref="EngineJournalWorkload"/>: commits (Sync) of a first tree, of changes to it,
/// then at least five rounds of directory churn, more until the live log holds what the case
/// needs (at least three commits and a revoke block; for the 1 MiB journals a log that wraps
/// past the journal's end), then some changes that are never committed; then the power is cut and the volume abandoned
/// without Unmount — a crash with committed, uncheckpointed transactions. The image must carry
/// needs_recovery, a journal superblock with s_start != 0 and the journal features the kernel
/// itself uses for that layout. Then, on three copies:
///   - e2fsck -E journal_only -y replays; e2fsck -fn must be clean;
///   - the engine replays onto the device (read-write open); e2fsck -fn clean; its image must be
///     byte-identical to e2fsck's replay, except the superblock fields e2fsck stamps when it
///     closes the file system (<see cref="ImageDiff"/>: s_wtime, s_kbytes_written, s_checksum);
///   - the kernel replays (rw mount and umount); e2fsck -fn clean;
/// and each replayed tree (read by the engine: modes, ids, sizes, times, flags, xattrs, content
/// hashes, directory entries with inode numbers) must equal the tree the engine served right
/// after its last commit. The uncommitted changes must therefore be absent everywhere.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.None)]
public sealed partial class SafemountJournalInteropTests
{
    /// <summary>Churn rounds allowed before the live log must show what the case needs.</summary>
    private const int MaxRounds = 400;

    /// <summary>Churn rounds always run: each after the first frees the previous round's directory blocks, which the next reuses.</summary>
    private const int MinRounds = 5;

    /// <summary>
    /// mkfs options; the journal features the kernel sets on that layout when it writes a
    /// transaction (seen with kernel 6.18: checksum v3 with metadata_csum, none without;
    /// 64-bit block tags with 64bit; revoke only once a revoke record is written, so it is
    /// checked apart); whether the live log must wrap.
    /// </summary>
    public static IEnumerable<TestCaseData> Layouts()
    {
        yield return new TestCaseData("-b 4096", "journal_64bit journal_checksum_v3", false).SetName("SafemountJournal_4k_64bit_CsumV3");
        yield return new TestCaseData("-b 4096 -O ^metadata_csum", "journal_64bit", false).SetName("SafemountJournal_4k_64bit_NoChecksums");
        yield return new TestCaseData("-b 4096 -O ^64bit", "journal_checksum_v3", false).SetName("SafemountJournal_4k_32bitTags_CsumV3");
        yield return new TestCaseData("-b 1024 -O ^metadata_csum,^64bit", "", false).SetName("SafemountJournal_1k_32bitTags_NoChecksums");
        yield return new TestCaseData("-b 1024 -J size=1", "journal_64bit journal_checksum_v3", true).SetName("SafemountJournal_1k_TinyJournal_CsumV3_Wraps");
        yield return new TestCaseData("-b 1024 -O ^metadata_csum,^64bit -J size=1", "", true).SetName("SafemountJournal_1k_TinyJournal_NoChecksums_Wraps");
        yield return new TestCaseData("-t ext3 -b 1024 -J size=1", "", true).SetName("SafemountJournal_Ext3_BlockMapped_Wraps");
    }

    [TestCaseSource(nameof(Layouts))]
    public void KernelAndE2fsckReplayWhatSafemountJournaled(string mkfs, string kernelJournalFeatures, bool wraps)
    {
        DirtyImage.RequireRoot();
        using var dir = new TempDir();
        string image = dir["crashed.img"];
        Tool.Check("truncate", "-s", "32M", image);
        Tool.Check("mkfs.ext4", ["-q", "-F", .. mkfs.Split(' '), image]);

        List<string> committedTree = CrashAfterCommits(image, wraps, out string logdump);
        TestContext.Out.WriteLine(logdump);

        // The crashed image really carries a journal to replay.
        string header = Tool.Check("dumpe2fs", "-h", image);
        Assert.That(header, Does.Match(@"Filesystem features:.*needs_recovery"), "the crash left needs_recovery set");
        var (sStart, sSequence) = JournalSuperblockStart(image);
        Assert.That(sStart, Is.Not.Zero, "journal superblock s_start: the log is live");
        Assert.That(header, Does.Match($@"Journal start:\s+{sStart}\n"), "dumpe2fs reads the same s_start");
        string features = JournalFeatures().Match(header).Groups[1].Value.Trim();
        Assert.That(features.Split(' ').Where(f => f != "journal_incompat_revoke" && f != "(none)").Order(),
            Is.EqualTo(kernelJournalFeatures.Split(' ', StringSplitOptions.RemoveEmptyEntries).Order()),
            $"journal features ({features}) as the kernel sets them on this layout");
        var log = JournalReplayTests.LogBlocks(logdump);
        Assert.That(log.Count(b => b.Type == 2), Is.GreaterThanOrEqualTo(3), "committed transactions in the live log");
        Assert.That(log.Count(b => b.Type == 5), Is.Positive, "revoke blocks in the live log");
        Assert.That(log.Zip(log.Skip(1)).Any(p => p.Second.Block < p.First.Block), Is.EqualTo(wraps), "the live log wraps past the journal's end");
        Assert.That(features, Does.Contain("journal_incompat_revoke"), "revoke records need the revoke feature (jbd2_journal_revoke sets it)");
        TestContext.Out.WriteLine($"s_start {sStart}, s_sequence {sSequence}, {log.Count(b => b.Type == 2)} commits live, features: {features}");

        // e2fsck: journal only.
        string byFsck = dir["e2fsck.img"];
        File.Copy(image, byFsck);
        var fsck = Tool.Run("timeout", ["120", "e2fsck", "-E", "journal_only", "-y", byFsck], 150);
        Assert.That(fsck.ExitCode, Is.EqualTo(0).Or.EqualTo(1), $"e2fsck -E journal_only: {fsck.Stdout}{fsck.Stderr}");
        Assert.That(Tool.Check("dumpe2fs", "-h", byFsck), Does.Not.Contain("needs_recovery"), "e2fsck replayed the journal");
        Assert.That(Tool.FsckClean(byFsck, out string fsckOut), Is.True, $"after e2fsck's replay: {fsckOut}");

        // The engine, as a read-write mount replays.
        string byEngine = dir["engine.img"];
        File.Copy(image, byEngine);
        List<string> engineTree;
        using (var opened = TestImage.OpenPathWritable(byEngine))
        {
            Assert.That(opened.Volume.Warnings, Has.Some.StartsWith("journal replayed onto the device"));
            engineTree = TreeSnapshot.Take(opened.Volume);
        }

        Assert.That(Tool.FsckClean(byEngine, out fsckOut), Is.True, $"after safemount's replay: {fsckOut}");
        ImageDiff.AssertSameExceptSuperblockBookkeeping(byFsck, byEngine);

        // The kernel.
        string byKernel = dir["kernel.img"];
        File.Copy(image, byKernel);
        string mnt = dir["kmnt"];
        Directory.CreateDirectory(mnt);
        var mount = Tool.Run("unshare", ["-m", "--propagation", "private", "sh", "-c", $"mount -o loop '{byKernel}' '{mnt}' && umount '{mnt}'"], 120);
        Assert.That(mount.ExitCode, Is.Zero, $"the kernel mounts (and recovers) the crashed image: {mount.Stderr}");
        Assert.That(Tool.FsckClean(byKernel, out fsckOut), Is.True, $"after the kernel's replay: {fsckOut}");

        Assert.That(engineTree, Is.EqualTo(committedTree), "safemount's replay serves the tree of the last commit");
        Assert.That(Snapshot(byFsck), Is.EqualTo(committedTree), "e2fsck's replay holds the tree of the last commit");
        Assert.That(Snapshot(byKernel), Is.EqualTo(committedTree), "the kernel's replay holds the tree of the last commit");
        Assert.That(string.Join('\n', committedTree), Does.Not.Contain("never-committed"));
    }

    /// <summary>
    /// Orphans carried by the journal: after the first tree is committed, an O_TMPFILE inode
    /// with data and an unlinked file that is still open (<see cref="Ext4Volume.IsReferenced"/>)
    /// are committed on the orphan list (s_last_orphan, i_dtime chain), then the power is cut.
    /// Each recovery must replay the list and release both (ext4_orphan_cleanup; the engine's
    /// mount does Open + CleanupOrphans; e2fsck -E journal_only releases them after its replay): the
    /// three images are then e2fsck clean, serve the committed tree, and their block and inode
    /// bitmaps and group counters (dumpe2fs group lines) are identical.
    /// </summary>
    [TestCase("-b 4096")]
    [TestCase("-b 1024 -O ^metadata_csum,^64bit")]
    public void OrphansCommittedInTheJournalAreReleasedByEveryRecovery(string mkfs)
    {
        DirtyImage.RequireRoot();
        using var dir = new TempDir();
        string image = dir["crashed.img"];
        Tool.Check("truncate", "-s", "32M", image);
        Tool.Check("mkfs.ext4", ["-q", "-F", .. mkfs.Split(' '), image]);
        List<string> committedTree;
        using (var device = new PowerCutDevice(image))
        {
            var volume = Ext4Volume.Open(device, new Ext4OpenOptions { ReadOnly = false, CommitInterval = TimeSpan.FromDays(1) });
            new EngineJournalWorkload(volume, seed: 9).FirstTree();
            uint docs = PathWalk.Resolve(volume, "/docs");
            uint open = PathWalk.Resolve(volume, "/docs/file-4");
            volume.IsReferenced = ino => ino == open;
            Assert.That(volume.Unlink(docs, "file-4"u8), Is.EqualTo(Ext4Errno.None));
            Assert.That(volume.CreateTmpFile(docs, 0x81A4, 0, 0, out var tmp), Is.EqualTo(Ext4Errno.None));
            Assert.That(volume.WriteFile(tmp!.Number, 0, new byte[200_000], out _), Is.EqualTo(Ext4Errno.None));
            Assert.That(volume.OrphanCount, Is.EqualTo(2));
            volume.Sync();
            committedTree = TreeSnapshot.Take(volume);
            device.Cut();
        }

        Assert.That(Tool.Check("dumpe2fs", "-h", image), Does.Match(@"Filesystem features:.*needs_recovery"));
        TestContext.Out.WriteLine(Tool.Debugfs(image, "logdump"));

        string byFsck = dir["e2fsck.img"];
        File.Copy(image, byFsck);
        var fsck = Tool.Run("timeout", ["120", "e2fsck", "-E", "journal_only", "-y", byFsck], 150);
        Assert.That(fsck.ExitCode, Is.EqualTo(0).Or.EqualTo(1), fsck.Stdout + fsck.Stderr);

        // e2fsck's recovery releases the orphan list the replay restored (release_orphan_inodes
        // runs in its superblock checks, also with journal_only), one line per orphan.
        Assert.That(OrphanCleared().Matches(fsck.Stdout).Count, Is.EqualTo(2), $"e2fsck found both orphans on the replayed list:\n{fsck.Stdout}");
        Assert.That(Tool.FsckClean(byFsck, out string fsckOut), Is.True, fsckOut);

        string byEngine = dir["engine.img"];
        File.Copy(image, byEngine);
        using (var opened = TestImage.OpenPathWritable(byEngine))
        {
            Assert.That(opened.Volume.CleanupOrphans(loadFromDisk: true), Is.EqualTo(2), "safemount's mount releases both orphans");
            opened.Volume.Unmount();
        }

        Assert.That(Tool.FsckClean(byEngine, out fsckOut), Is.True, fsckOut);

        string byKernel = dir["kernel.img"];
        File.Copy(image, byKernel);
        string mnt = dir["kmnt"];
        Directory.CreateDirectory(mnt);
        var mount = Tool.Run("unshare", ["-m", "--propagation", "private", "sh", "-c", $"mount -o loop '{byKernel}' '{mnt}' && umount '{mnt}'"], 120);
        Assert.That(mount.ExitCode, Is.Zero, mount.Stderr);
        Assert.That(Tool.FsckClean(byKernel, out fsckOut), Is.True, fsckOut);

        foreach (string recovered in new[] { byEngine, byFsck, byKernel })
        {
            Assert.That(Snapshot(recovered), Is.EqualTo(committedTree), $"{Path.GetFileName(recovered)} serves the committed tree");
            Assert.That(FirstOrphan().Match(Tool.Check("dumpe2fs", "-h", recovered)).Success, Is.False, $"{Path.GetFileName(recovered)}: orphan list empty");
        }

        string kernelGroups = Groups(byKernel);
        Assert.That(Groups(byEngine), Is.EqualTo(kernelGroups), "safemount's recovery frees exactly what the kernel's does");
        Assert.That(Groups(byFsck), Is.EqualTo(kernelGroups), "e2fsck's recovery frees exactly what the kernel's does");
    }

    /// <summary>dumpe2fs from the first group on: bitmaps (free ranges), counters, checksums.</summary>
    private static string Groups(string image)
    {
        string dump = Tool.Check("dumpe2fs", image);
        return dump[dump.IndexOf("\nGroup 0:", StringComparison.Ordinal)..];
    }

    /// <summary>
    /// Runs the workload on <paramref name="image"/>, cuts the power after the commits and the
    /// uncommitted tail, and abandons the volume. Returns the tree as served right after the
    /// last commit, and the crashed image's logdump.
    /// </summary>
    private static List<string> CrashAfterCommits(string image, bool wraps, out string logdump)
    {
        var device = new PowerCutDevice(image);
        try
        {
            // commit= far away: no periodic commit may add a transaction the test did not ask for.
            var volume = Ext4Volume.Open(device, new Ext4OpenOptions { ReadOnly = false, CommitInterval = TimeSpan.FromDays(1) });
            Assert.That(volume.IsReadOnly, Is.False);
            var workload = new EngineJournalWorkload(volume, seed: 5);
            workload.FirstTree();
            workload.ChangeTree();
            int round = 0;
            for (; round < MaxRounds; round++)
            {
                workload.Round(round);
                var log = JournalReplayTests.LogBlocks(Tool.Debugfs(image, "logdump"));
                bool wrapped = log.Zip(log.Skip(1)).Any(p => p.Second.Block < p.First.Block);
                if (round + 1 >= MinRounds && log.Count(b => b.Type == 2) >= 3 && log.Any(b => b.Type == 5) && wrapped == wraps)
                {
                    break;
                }
            }

            Assert.That(round, Is.LessThan(MaxRounds),
                $"after {MaxRounds} committed rounds the live log still lacks 3 commits, a revoke block{(wraps ? " or a wrap past the journal's end" : " or wraps")}:\n{Tool.Debugfs(image, "logdump")}");
            TestContext.Out.WriteLine($"{round + 1} churn rounds committed");
            List<string> committed = TreeSnapshot.Take(volume);
            workload.Uncommitted();

            // The crash: the device dies; the volume is never touched again (no Unmount, no Dispose).
            device.Cut();
            TestContext.Out.WriteLine($"power cut after {device.Writes} writes and {device.Flushes} flushes");
            logdump = Tool.Debugfs(image, "logdump");
            return committed;
        }
        finally
        {
            device.Dispose();
        }
    }

    private static List<string> Snapshot(string image)
    {
        using var opened = TestImage.OpenPath(image);
        Assert.That(opened.Volume.Warnings, Has.None.Contains("journal"), "nothing left to replay");
        return TreeSnapshot.Take(opened.Volume);
    }

    /// <summary>s_start and s_sequence of the journal superblock (big-endian, at 0x1C and 0x18 of the journal's block 0; jbd2.h journal_superblock_t).</summary>
    private static (uint Start, uint Sequence) JournalSuperblockStart(string image)
    {
        byte[] sb = new byte[1024];
        using (var h = File.OpenHandle(image, FileMode.Open, FileAccess.Read))
        {
            RandomAccess.Read(h, sb, 1024);
        }

        int blockSize = 1024 << (int)BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(0x18));
        long journalBlock = long.Parse(Tool.Debugfs(image, "bmap <8> 0").Trim(), CultureInfo.InvariantCulture);
        byte[] jsb = new byte[32];
        using (var h = File.OpenHandle(image, FileMode.Open, FileAccess.Read))
        {
            RandomAccess.Read(h, jsb, journalBlock * blockSize);
        }

        Assert.That(BinaryPrimitives.ReadUInt32BigEndian(jsb), Is.EqualTo(0xC03B3998u), "h_magic of the journal superblock");
        return (BinaryPrimitives.ReadUInt32BigEndian(jsb.AsSpan(0x1C)), BinaryPrimitives.ReadUInt32BigEndian(jsb.AsSpan(0x18)));
    }

    [GeneratedRegex(@"Journal features:\s+(.*)")]
    private static partial Regex JournalFeatures();

    [GeneratedRegex(@"First orphan inode:\s+(\d+)")]
    private static partial Regex FirstOrphan();

    [GeneratedRegex(@"^Clearing orphaned inode \d+ ", RegexOptions.Multiline)]
    private static partial Regex OrphanCleared();
}
