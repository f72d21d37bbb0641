using System.Security.Cryptography;
using System.Text;
using Safemount.Ext4.Format;
using Safemount.Ext4.Storage;
using Safemount.Ext4.Tests.Support;
using Safemount.Ext4.Tests.Write;

namespace Safemount.Ext4.Tests.Journal;

/// <summary>
/// The write side within the cache budget (bench/RESULTS.md "Run 8c"). A volume opened with a
/// budget of <see cref="BudgetBlocks"/> blocks runs a metadata workload of many handles
/// (directories, small files with data, unlinks, renames) and the caller never syncs (commit=
/// far away, so every commit and checkpoint is one the budget forced). After every operation the
/// cache's own counters must show: dirty blocks within the budget, clean blocks giving way to
/// them, the running transaction at most its limit plus one handle, the checkpoint backlog at
/// most its limit. The workload changes many times the budget, so the limits must have forced
/// commits and checkpoints. Then, with a journal, the power is cut after a last commit and the
/// crashed image is replayed by e2fsck, the kernel and the engine: each is e2fsck -fn clean and
/// serves the tree of the last commit, and the kernel reads every file's content as written.
/// Without a journal the volume is unmounted cleanly and checked the same way.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.None)]
public sealed class WriteBackBudgetTests
{
    /// <summary>The budget: 128 blocks (the cache's minimum is 64).</summary>
    private const int BudgetBlocks = 128;

    /// <summary>Blocks one handle of this workload may install beyond a limit reached at its start (inode table, bitmaps, descriptors, directory and index blocks, superblock).</summary>
    private const int HandleSlack = 16;

    private const int Dirs = 30;
    private const int FilesPerDir = 40;

    public static IEnumerable<TestCaseData> Layouts()
    {
        yield return new TestCaseData("-b 4096 -O metadata_csum,64bit", true).SetName("WriteBackBudget_4k_CsumV3");
        yield return new TestCaseData("-b 1024 -O ^metadata_csum,^64bit", true).SetName("WriteBackBudget_1k_NoChecksums");
        yield return new TestCaseData("-t ext2 -b 1024", false).SetName("WriteBackBudget_Ext2_NoJournal");
    }

    [TestCaseSource(nameof(Layouts))]
    public void ChangedBlocksStayWithinTheBudgetAndEveryRecoveryServesTheLastCommit(string mkfs, bool journaled)
    {
        DirtyImage.RequireRoot();
        using var dir = new TempDir();
        string image = dir["budget.img"];
        Tool.Check("truncate", "-s", "64M", image);
        Tool.Check("mkfs.ext4", ["-q", "-F", .. mkfs.Split(' '), image]);

        var device = new PowerCutDevice(image);
        List<string> committed;
        Dictionary<string, string> contents;
        try
        {
            var v = Ext4Volume.Open(device, new Ext4OpenOptions
            {
                ReadOnly = false,
                CacheBytes = BudgetBlocks * 1024L << (int)ReadSuperblockLogBlockSize(image),
                CommitInterval = TimeSpan.FromDays(1),
            });
            Assert.That(v.IsJournaled, Is.EqualTo(journaled));
            Assert.That(v.Cache.Capacity, Is.EqualTo(BudgetBlocks));
            var watch = new Watch(v);
            contents = RunWorkload(v, watch);
            TestContext.Out.WriteLine($"installs {v.Cache.Installs}, peaks: dirty {watch.MaxDirty}, running transaction {watch.MaxUnlogged}, backlog {watch.MaxPending}; commits {watch.Commits}, checkpoints {watch.Checkpoints}");
            Assert.That(v.Cache.Installs, Is.GreaterThan(10L * BudgetBlocks), "the workload changes many times the budget");
            if (journaled)
            {
                Assert.That(watch.Commits, Is.GreaterThanOrEqualTo(5), "commits forced by the transaction limit (the caller never synced)");
                Assert.That(watch.Checkpoints, Is.GreaterThanOrEqualTo(2), "checkpoints forced by the backlog limit");
            }

            v.Sync();
            committed = TreeSnapshot.Take(v);
            if (journaled)
            {
                // The crash: the device dies after the last commit; the volume is never touched again.
                device.Cut();
            }
            else
            {
                v.Dispose();
            }
        }
        finally
        {
            device.Dispose();
        }

        var replayed = new List<string>();
        if (journaled)
        {
            string byFsck = dir["e2fsck.img"];
            File.Copy(image, byFsck);
            var fsck = Tool.Run("timeout", ["120", "e2fsck", "-E", "journal_only", "-y", byFsck], 150);
            Assert.That(fsck.ExitCode, Is.EqualTo(0).Or.EqualTo(1), $"e2fsck -E journal_only: {fsck.Stdout}{fsck.Stderr}");
            replayed.Add(byFsck);

            string byEngine = dir["engine.img"];
            File.Copy(image, byEngine);
            using (var opened = TestImage.OpenPathWritable(byEngine))
            {
                Assert.That(TreeSnapshot.Take(opened.Volume), Is.EqualTo(committed), "safemount's replay serves the tree of the last commit");
            }

            replayed.Add(byEngine);

            string byKernel = dir["kernel.img"];
            File.Copy(image, byKernel);
            string mnt = dir["kmnt-rw"];
            Directory.CreateDirectory(mnt);
            var mount = Tool.Run("unshare", ["-m", "--propagation", "private", "sh", "-c", $"mount -o loop '{byKernel}' '{mnt}' && umount '{mnt}'"], 120);
            Assert.That(mount.ExitCode, Is.Zero, $"the kernel mounts (and recovers) the crashed image: {mount.Stderr}");
            replayed.Add(byKernel);
        }
        else
        {
            replayed.Add(image);
        }

        foreach (string path in replayed)
        {
            Assert.That(Tool.FsckClean(path, out string fsckOut), Is.True, $"{Path.GetFileName(path)}: {fsckOut}");
            using (var opened = TestImage.OpenPath(path))
            {
                Assert.That(TreeSnapshot.Take(opened.Volume), Is.EqualTo(committed), $"{Path.GetFileName(path)} serves the tree of the last commit");
            }

            string listing = DirsKernel.ReadOnly(path, dir["kmnt-ro"], "cd \"$M\" && find . -type f ! -path './lost+found*' -exec sha256sum {} +");
            var byKernel = listing.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split("  ", 2))
                .ToDictionary(p => p[1].TrimStart('.', '/'), p => p[0].ToUpperInvariant(), StringComparer.Ordinal);
            Assert.That(byKernel, Is.EquivalentTo(contents), $"{Path.GetFileName(path)}: the kernel reads every file as written");
        }
    }

    /// <summary>
    /// Directories of small files (1-6000 bytes), then every third file unlinked and every fifth
    /// renamed into the next directory, checking the bounds after each operation. Returns path → SHA-256 (hex) of the files left.
    /// </summary>
    private static Dictionary<string, string> RunWorkload(Ext4Volume v, Watch watch)
    {
        var random = new Random(8);
        var contents = new Dictionary<string, string>(StringComparer.Ordinal);
        var dirs = new List<uint>();
        for (int d = 0; d < Dirs; d++)
        {
            Ok(v.Mkdir(InodeLayout.EXT4_ROOT_INO, B($"dir-{d}"), 0x1ED, 1000, 1000, out var created), "mkdir");
            dirs.Add(created!.Number);
            watch.Check();
            for (int f = 0; f < FilesPerDir; f++)
            {
                var data = new byte[random.Next(1, 6000)];
                random.NextBytes(data);
                Ok(v.Create(created.Number, B($"file-with-a-longer-name-{f}"), 0x1A4, 1000, 1000, out var file), "create");
                watch.Check();
                Ok(v.WriteFile(file!.Number, 0, data, out int written), "write");
                Assert.That(written, Is.EqualTo(data.Length));
                watch.Check();
                contents[$"dir-{d}/file-with-a-longer-name-{f}"] = Convert.ToHexString(SHA256.HashData(data));
            }
        }

        for (int d = 0; d < Dirs; d++)
        {
            for (int f = 0; f < FilesPerDir; f++)
            {
                string name = $"file-with-a-longer-name-{f}";
                if (f % 3 == 0)
                {
                    Ok(v.Unlink(dirs[d], B(name)), "unlink");
                    contents.Remove($"dir-{d}/{name}");
                }
                else if (f % 5 == 0)
                {
                    int to = (d + 1) % Dirs;
                    Ok(v.Rename(dirs[d], B(name), dirs[to], B($"moved-from-{d}-{f}"), RenameFlags.None), "rename");
                    contents.Remove($"dir-{d}/{name}", out string? hash);
                    contents[$"dir-{to}/moved-from-{d}-{f}"] = hash!;
                }

                watch.Check();
            }
        }

        return contents;
    }

    private static uint ReadSuperblockLogBlockSize(string image)
    {
        var sb = new byte[SuperblockLayout.Size];
        using var h = File.OpenHandle(image);
        RandomAccess.Read(h, sb, SuperblockLayout.Offset);
        return new Superblock(sb).s_log_block_size;
    }

    private static byte[] B(string s) => Encoding.ASCII.GetBytes(s);

    private static void Ok(Ext4Errno e, string what) => Assert.That(e, Is.EqualTo(Ext4Errno.None), what);

    /// <summary>The bounds, checked between operations (no handle open, no commit running: this test's only thread).</summary>
    private sealed class Watch(Ext4Volume v)
    {
        private uint _lastTransaction = v.JournalNextTransaction;
        private int _lastPending;

        public int MaxDirty { get; private set; }

        public int MaxUnlogged { get; private set; }

        public int MaxPending { get; private set; }

        public int Commits { get; private set; }

        public int Checkpoints { get; private set; }

        public void Check()
        {
            var cache = v.Cache;
            int dirty = cache.DirtyCount;
            int unlogged = cache.UnloggedCount;
            int pending = v.JournalPendingCount;
            MaxDirty = Math.Max(MaxDirty, dirty);
            MaxUnlogged = Math.Max(MaxUnlogged, unlogged);
            MaxPending = Math.Max(MaxPending, pending);
            Assert.That(dirty, Is.LessThanOrEqualTo(cache.Capacity), "dirty blocks within the budget");
            Assert.That(cache.Count, Is.LessThanOrEqualTo(Math.Max(BlockCache.MinEntries, cache.Capacity - dirty)), "clean blocks give way to dirty ones");
            if (v.IsJournaled)
            {
                Assert.That(unlogged, Is.LessThanOrEqualTo(v.MaxTransactionBlocks + HandleSlack), "the running transaction commits at its limit");
                Assert.That(pending, Is.LessThanOrEqualTo(v.MaxBacklogBlocks), "a commit leaves at most the backlog limit waiting for its checkpoint");
                uint next = v.JournalNextTransaction;
                Commits += (int)(next - _lastTransaction);
                _lastTransaction = next;
                if (pending < _lastPending)
                {
                    Checkpoints++;
                }

                _lastPending = pending;
            }
            else
            {
                Assert.That(dirty, Is.LessThanOrEqualTo(v.MaxBacklogBlocks + HandleSlack), "without a journal, write-back at half the budget");
            }
        }
    }
}
