using System.Buffers.Binary;
using System.Text.RegularExpressions;
using Safemount.Ext4.Storage;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Journal;

/// <summary>
/// Journal replay of kernel-made dirty images, against two oracles: e2fsck -E journal_only
/// (replays the journal and nothing else; the engine's device replay must equal it byte for
/// byte, superblock bookkeeping fields aside) and the kernel's own recovery (the tree the
/// engine serves from the dirty image must equal the tree of the kernel-recovered copy).
/// The read-only (overlay) replay must leave the image byte-identical.
/// </summary>
[Parallelizable(ParallelScope.None)]
public partial class JournalReplayTests
{
    /// <summary>size, mkfs options, mount options, fsync'ed rounds, journal features expected, log must wrap.</summary>
    public static IEnumerable<TestCaseData> Variants()
    {
        yield return new TestCaseData("32M", "-b 4096", "", 20, "journal_64bit journal_checksum_v3", false)
            .SetName("Replay_4k_64bitTags_CsumV3");
        yield return new TestCaseData("32M", "-b 1024 -J size=1", "", 150, "journal_64bit journal_checksum_v3", true)
            .SetName("Replay_1k_TinyJournal_WrapsAround");
        yield return new TestCaseData("32M", "-b 4096 -O ^64bit", "", 20, "journal_checksum_v3", false)
            .SetName("Replay_4k_32bitTags_CsumV3");
        yield return new TestCaseData("32M", "-b 4096 -O ^metadata_csum", "", 20, "journal_incompat_revoke", false)
            .SetName("Replay_4k_NoChecksums");
        yield return new TestCaseData("32M", "-b 1024 -O ^metadata_csum,^64bit -J size=1", "journal_checksum", 150, "journal_checksum ", true)
            .SetName("Replay_1k_32bitTags_V1CommitChecksums_Wraps");
        yield return new TestCaseData("32M", "-b 4096", "journal_async_commit,data=writeback", 20, "journal_async_commit journal_checksum_v3", false)
            .SetName("Replay_4k_AsyncCommit_CsumV3");
        yield return new TestCaseData("32M", "-b 1024 -O ^metadata_csum", "journal_async_commit,data=writeback", 20, "journal_async_commit", false)
            .SetName("Replay_1k_AsyncCommit_V1Checksums");
        yield return new TestCaseData("32M", "-t ext3 -b 1024 -J size=1", "", 150, "journal_incompat_revoke", true)
            .SetName("Replay_Ext3_BlockMappedJournal_Wraps");
        // fsync writes fast commits; the final LOGFLUSH commits their transaction in full, so
        // the fast-commit area is stale (its tid is not the one after the log) and the kernel
        // ignores it (JBD2_FC_REPLAY_STOP). e2fsck 1.47.0 instead fails the recovery with EINVAL
        // after replaying the log, so it leaves the journal superblock as it was and marks the
        // file system not clean: those two places are masked for this variant only.
        yield return new TestCaseData("32M", "-b 4096 -O fast_commit", "", 20, "journal_checksum_v3 FEATURE_I5", false)
            .SetName("Replay_4k_FastCommitAreaStale");
    }

    [TestCaseSource(nameof(Variants))]
    public void ReplayMatchesE2fsckAndTheKernel(string size, string mkfs, string mount, int rounds, string journalFeatures, bool wraps)
    {
        DirtyImage.RequireRoot();
        using var image = DirtyImage.Make(size, mkfs, mount, rounds);

        // The fixture really is what it claims: needs_recovery, the journal features, several
        // committed transactions, revoke records, and for the tiny journals a log that wraps.
        string header = Tool.Check("dumpe2fs", "-h", image.ImagePath);
        Assert.That(header, Does.Match(@"Filesystem features:.*needs_recovery"));
        Assert.That(Regex.Match(header, "Journal features:(.*)").Groups[1].Value + " ", Does.Contain(journalFeatures));
        var log = LogBlocks(image.LogDump());
        Assert.That(log.Count(b => b.Type == 2), Is.GreaterThanOrEqualTo(3), "committed transactions in the log");
        Assert.That(log.Count(b => b.Type == 5), Is.GreaterThanOrEqualTo(1), "revoke blocks in the log");
        bool wrapped = log.Zip(log.Skip(1)).Any(p => p.Second.Block < p.First.Block);
        Assert.That(wrapped, Is.EqualTo(wraps), "the live log wraps around the end of the journal");
        string before = DirtyImage.Sha256(image.ImagePath);

        // Read-only open: replay into memory, device untouched.
        List<string> overlayTree;
        using (var opened = TestImage.OpenPath(image.ImagePath))
        {
            Assert.That(opened.Volume.IsReadOnly, Is.True);
            Assert.That(opened.Volume.Warnings, Has.Some.StartsWith("journal replayed into memory"));
            overlayTree = TreeSnapshot.Take(opened.Volume);
        }

        Assert.That(DirtyImage.Sha256(image.ImagePath), Is.EqualTo(before), "a read-only replay never writes the image");

        // Oracle 1: e2fsck replays the journal only; the engine replays onto a copy.
        string byFsck = image.Copy("e2fsck.img");
        var fsck = Tool.Run("timeout", ["120", "e2fsck", "-E", "journal_only", "-y", byFsck], 150);
        Assert.That(fsck.ExitCode, Is.EqualTo(0).Or.EqualTo(1), fsck.Stdout + fsck.Stderr);
        string byEngine = image.Copy("engine.img");
        List<string> engineTree;
        using (var handle = File.OpenHandle(byEngine, FileMode.Open, FileAccess.ReadWrite))
        using (var device = new FileBlockDevice(handle, RandomAccess.GetLength(handle), writable: true))
        using (var v = Ext4Volume.Open(device, new Ext4OpenOptions { ReadOnly = false }))
        {
            Assert.That(v.IsReadOnly, Is.False);
            Assert.That(v.Warnings, Has.Some.StartsWith("journal replayed onto the device"));
            engineTree = TreeSnapshot.Take(v);
        }

        Assert.That(ImageDiff.Differences(image.ImagePath, byFsck), Is.Not.Empty, "replay changes the image");
        (long, int)[] masked = [];
        if (mkfs.Contains("fast_commit"))
        {
            Assert.That(fsck.Stdout + fsck.Stderr, Does.Contain("Invalid argument while recovering journal"));
            int bs = 1024 << (int)BinaryPrimitives.ReadUInt32LittleEndian(File.ReadAllBytes(byFsck).AsSpan(1024 + 0x18));
            long jsb = long.Parse(Tool.Debugfs(byFsck, "bmap <8> 0").Trim()) * bs;
            masked = [(1024 + 0x3A, 2), (jsb, 1024)];   // s_state; the journal superblock
        }

        ImageDiff.AssertSameExceptSuperblockBookkeeping(byFsck, byEngine, masked);
        Assert.That(Tool.FsckClean(byEngine, out string fsckOutput), Is.True, fsckOutput);
        Assert.That(engineTree, Is.EqualTo(overlayTree), "device replay and memory replay serve the same tree");

        // Oracle 2: the kernel's own recovery.
        string byKernel = image.KernelRecoveredCopy();
        using (var kernel = TestImage.OpenPath(byKernel))
        {
            Assert.That(kernel.Volume.Warnings, Has.None.Contains("journal"), "the kernel left nothing to replay");
            Assert.That(TreeSnapshot.Take(kernel.Volume), Is.EqualTo(overlayTree), "the tree equals the kernel's after its recovery");
        }
    }

    /// <summary>
    /// Fast commits written after the last full commit (EXT4_GOING_FLAGS_NOLOGFLUSH, flag 2,
    /// leaves the running transaction uncommitted): the fast-commit area starts with a HEAD tag
    /// for the transaction after the log, which the kernel and e2fsck would replay. The engine
    /// does not replay fast commits and must refuse by name, without touching the device.
    /// </summary>
    [Test]
    public void LiveFastCommitsAreRefusedByName()
    {
        DirtyImage.RequireRoot();
        using var image = TestImage.Build(_ => { }, "32M", "-b", "4096", "-O", "fast_commit");
        string mnt = image.Scratch("kmnt");
        Directory.CreateDirectory(mnt);
        string script = $$"""
            set -e
            m='{{mnt}}'
            mount -o loop '{{image.ImagePath}}' "$m"
            trap 'umount "$m" 2>/dev/null || true' EXIT
            echo a > "$m/x"; sync "$m"
            i=1; while [ $i -le 10 ]; do echo $i >> "$m/x"; head -c 3000 /dev/urandom > "$m/y$i"; sync "$m/y$i"; i=$((i+1)); done
            python3 -c 'import fcntl, os, struct, sys; fd = os.open(sys.argv[1], os.O_RDONLY); fcntl.ioctl(fd, 0x8004587D, struct.pack("I", 2))' "$m/x"
            """;
        var r = Tool.Run("unshare", ["-m", "--propagation", "private", "sh", "-c", script], 120);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Stderr);
        string dump = Tool.Debugfs(image.ImagePath, "logdump");
        var lastCommit = Regex.Matches(dump, @"Found expected sequence (\d+), type 2").Last();
        uint end = uint.Parse(lastCommit.Groups[1].Value) + 1;
        Assert.That(dump, Does.Contain($"tag HEAD, features 0x0, tid {end}"), "live fast commits follow the log");

        var before = File.ReadAllBytes(image.ImagePath);
        foreach (bool readOnly in new[] { true, false })
        {
            using var handle = File.OpenHandle(image.ImagePath, FileMode.Open, FileAccess.ReadWrite);
            using var device = new FileBlockDevice(handle, RandomAccess.GetLength(handle), writable: true);
            var e = Assert.Throws<Ext4MountException>(() => Ext4Volume.Open(device, new Ext4OpenOptions { ReadOnly = readOnly }));
            Assert.That(e!.Message, Is.EqualTo($"the journal holds fast-commit blocks for transaction {end} (fast_commit replay is not supported)"));
        }

        Assert.That(File.ReadAllBytes(image.ImagePath), Is.EqualTo(before), "a refused replay writes nothing");
    }

    /// <summary>(log block, block type) of every block logdump found, in log order.</summary>
    internal static List<(uint Block, int Type)> LogBlocks(string logdump)
    {
        var list = new List<(uint, int)>();
        foreach (Match m in LogLine().Matches(logdump))
        {
            list.Add((uint.Parse(m.Groups[2].Value), int.Parse(m.Groups[1].Value)));
        }

        return list;
    }

    [GeneratedRegex(@"Found expected sequence \d+, type (\d+) \([^)]*\) at block (\d+)")]
    private static partial Regex LogLine();
}
