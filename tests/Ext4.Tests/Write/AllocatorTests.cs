using System.Globalization;
using Safemount.Ext4.Allocation;
using Safemount.Ext4.Format;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// The inode and block allocators on real images: locality, uninit groups, reserved blocks,
/// ENOSPC and recovery from it, with e2fsck as the oracle of bitmaps, counters and itable_unused.
/// </summary>
public class AllocatorTests
{
    [TestCase("-O", "metadata_csum,64bit")]
    [TestCase("-O", "^metadata_csum,uninit_bg,^flex_bg", "-b", "1024")]
    [TestCase("-t", "ext2", "-O", "^uninit_bg")]
    public void AllocatedInodesAreValidAndNearTheirParent(params string[] mkfs)
    {
        using var img = WriteImage.Build("128M", 0, mkfs);
        var files = new List<uint>();
        var dirsInRoot = new List<uint>();
        long freeInodesBefore;
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            var sb = v.Sb;
            freeInodesBefore = v.FreeInodesCount;
            uint ipg = sb.s_inodes_per_group;
            uint lastGroupParent = ((uint)v.Groups.Length - 1) * ipg + 5; // a number in the last group
            using (var tx = v.Begin())
            {
                for (int i = 0; i < 30; i++)
                {
                    Assert.That(v.InodeAllocator.Allocate(tx, InodeLayout.EXT4_ROOT_INO, InodeLayout.S_IFREG | 0x1A4, out var r), Is.EqualTo(Ext4Errno.None));
                    Assert.That(r.Number, Is.GreaterThanOrEqualTo(sb.s_first_ino), "never a reserved inode");
                    r.LinksCount = 1;
                    v.WriteInode(tx, r);
                    files.Add(r.Number);
                }

                // A file whose parent lives in the last group goes to the last group's flex group (or the group itself).
                Assert.That(v.InodeAllocator.Allocate(tx, lastGroupParent, InodeLayout.S_IFREG | 0x1A4, out var far), Is.EqualTo(Ext4Errno.None));
                far.LinksCount = 1;
                v.WriteInode(tx, far);
                files.Add(far.Number);
                uint farGroup = (far.Number - 1) / ipg;
                int logFlex = sb.HasIncompat(Ext4Features.INCOMPAT_FLEX_BG) ? sb.s_log_groups_per_flex : 0;
                Assert.That(farGroup >> logFlex, Is.EqualTo(((uint)v.Groups.Length - 1) >> logFlex), "near the parent's (flex) group");

                // Directories in the root are spread out (Orlov): not all in one group.
                for (int i = 0; i < 8; i++)
                {
                    Assert.That(v.InodeAllocator.Allocate(tx, InodeLayout.EXT4_ROOT_INO, InodeLayout.S_IFDIR | 0x1ED, out var d), Is.EqualTo(Ext4Errno.None));
                    dirsInRoot.Add(d.Number);
                    // Free it again at once (a directory needs blocks and entries that are not this test's
                    // subject), as ext4_evict_inode does: the final record carries i_dtime.
                    d.Dtime = 1_700_000_000;
                    v.WriteInode(tx, d);
                    v.InodeAllocator.Free(tx, d.Number, isDirectory: true);
                }
            }

            Assert.That(files.Distinct().Count(), Is.EqualTo(files.Count));
            Assert.That(v.FreeInodesCount, Is.EqualTo(freeInodesBefore - files.Count));
            if (v.Groups.Length > 4)
            {
                Assert.That(dirsInRoot.Select(d => (d - 1) / ipg).Distinct().Count(), Is.GreaterThan(1), "top-level directories are spread");
            }
        }

        // Name them so e2fsck sees ordinary empty files.
        string script = img.Image.Scratch("link.cmd");
        File.WriteAllLines(script, files.Select((ino, i) => string.Create(CultureInfo.InvariantCulture, $"ln <{ino}> /n{i}")));
        Tool.Check("debugfs", "-w", "-f", script, img.Path);
        img.AssertConsistent();
        string stat = Tool.Debugfs(img.Path, $"stat <{files[0]}>");
        Assert.That(stat, Does.Contain("Type: regular"));
        Assert.That(stat, Does.Match(@"Generation: \d+"));
    }

    [Test]
    public void ParallelInodeAndBlockAllocation()
    {
        using var img = WriteImage.Build("64M", 0, "-O", "metadata_csum,64bit", "-N", "4096");
        var inos = new System.Collections.Concurrent.ConcurrentBag<uint>();
        long freeBefore;
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            freeBefore = v.FreeClustersCount;
            Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
            {
                for (int i = 0; i < 100; i++)
                {
                    uint ino;
                    using (var tx = v.Begin())
                    {
                        Assert.That(v.InodeAllocator.Allocate(tx, InodeLayout.EXT4_ROOT_INO, InodeLayout.S_IFREG | 0x1A4, out var r), Is.EqualTo(Ext4Errno.None));
                        r.LinksCount = 1;
                        v.WriteInode(tx, r);
                        ino = r.Number;
                    }

                    // Each new file gets some data: block allocation from four threads at once.
                    Assert.That(v.WriteFile(ino, 0, new byte[(t * 1000) + i + 1], out _), Is.EqualTo(Ext4Errno.None));
                    inos.Add(ino);
                }
            });
            Assert.That(inos.Distinct().Count(), Is.EqualTo(400));
            Assert.That(v.FreeClustersCount, Is.LessThan(freeBefore));
        }

        string script = img.Image.Scratch("link.cmd");
        // debugfs ln never grows a directory (its first block takes about 80 names): 40 names in each of ten new directories.
        File.WriteAllLines(script, Enumerable.Range(0, 10).Select(d => $"mkdir /d{d}")
            .Concat(inos.Select((ino, i) => string.Create(CultureInfo.InvariantCulture, $"ln <{ino}> /d{i % 10}/n{ino}"))));
        Tool.Check("debugfs", "-w", "-f", script, img.Path);
        img.AssertConsistent();
    }

    /// <summary>
    /// A mapped block written as metadata (as directory blocks are: tx.Create, dirty in the cache
    /// until Sync) and freed by truncation leaves the cache: when it is handed out again as file
    /// data before any Sync, the stale dirty version must not be written over the data.
    /// </summary>
    [Test]
    public void FreedMetadataBlocksLeaveTheCache()
    {
        using var img = WriteImage.Build("16M", 2, "-O", "metadata_csum", "-b", "4096");
        uint meta = img.Ino("/f0");
        uint file = img.Ino("/f1");
        var data = Enumerable.Repeat((byte)0xA5, 4096).ToArray();
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            ulong block;
            using (var held = v.InodeLocks.Acquire(meta, exclusive: true))
            using (var tx = v.Begin())
            {
                var r = InodeRecord.From(v, v.ReadInode(meta));
                Assert.That(v.FileData.MapOrAllocateBlock(tx, r, 0, AllocationRights.User, out block, out _), Is.EqualTo(Ext4Errno.None));
                tx.Create(block, "metadata-style block", span => span.Fill(0x5A));
                r.Size = 4096;
                v.WriteInode(tx, r);
                Assert.That(v.FileData.SetSize(tx, r, 0), Is.EqualTo(Ext4Errno.None));
                v.WriteInode(tx, r);
            }

            // Blocks freed by a transaction are reusable once it has committed (FreedBlocks).
            v.Sync();
            using (var held = v.InodeLocks.Acquire(file, exclusive: true))
            using (var tx = v.Begin())
            {
                var r = InodeRecord.From(v, v.ReadInode(file));
                Assert.That(v.BlockAllocator.Allocate(tx, block, 1, AllocationRights.User, out ulong b, out _), Is.EqualTo(Ext4Errno.None));
                Assert.That(b, Is.EqualTo(block), "the freed block is handed out again after the commit");
                var ed = v.FileData.OpenEditor(r);
                Assert.That(ed.MapNew(tx, 0, 1, b, false, out _), Is.EqualTo(Ext4Errno.None));
                Assert.That(ed.Commit(tx), Is.EqualTo(Ext4Errno.None));
                tx.WriteData(b, 0, data);
                r.Size = data.Length;
                r.Blocks512 += v.BlockSize / 512;
                v.WriteInode(tx, r);
            }
        }

        img.AssertConsistent();
        Assert.That(img.Dump("/f1"), Is.EqualTo(data));
    }

    [Test]
    public void DoubleFreeIsCorruption()
    {
        using var img = WriteImage.Build("16M", 1);
        uint ino = img.Ino("/f0");
        using var opened = img.Open();
        var v = opened.Volume;
        Assert.That(v.WriteFile(ino, 0, new byte[4096], out _), Is.EqualTo(Ext4Errno.None));
        using var tx = v.Begin();
        Assert.Throws<Ext4CorruptionException>(() => v.BlockAllocator.Free(tx, v.Groups[0].bg_inode_table, 1), "freeing metadata");
        Assert.That(v.BlockAllocator.Allocate(tx, 0, 3, AllocationRights.User, out ulong start, out uint count), Is.EqualTo(Ext4Errno.None));
        Assert.That(count, Is.EqualTo(3u));
        v.BlockAllocator.Free(tx, start, 3);
        Assert.Throws<Ext4CorruptionException>(() => v.BlockAllocator.Free(tx, start + 1, 1), "double free");
        Assert.Throws<Ext4CorruptionException>(() => v.InodeAllocator.Free(tx, 3, false), "reserved inode");
    }

    [TestCase("-O", "metadata_csum")]
    [TestCase("-t", "ext3", "-b", "1024")]
    public void EnospcThenFreeAndWriteAgain(params string[] mkfs)
    {
        using var img = WriteImage.Build("8M", 3, mkfs.Concat(new[] { "-m", "5" }).ToArray());
        uint a = img.Ino("/f0"), b = img.Ino("/f1"), c = img.Ino("/f2");
        var chunk = new byte[256 << 10];
        new Random(10).NextBytes(chunk);
        long userTotal = 0, rootExtra = 0;
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            // An ordinary user fills the disk up to the reserve.
            while (true)
            {
                var err = v.WriteFile(a, userTotal, chunk, out int w, callerUid: 1000, callerGid: 1000);
                userTotal += w;
                if (err == Ext4Errno.ENOSPC || w < chunk.Length)
                {
                    break;
                }

                Assert.That(err, Is.EqualTo(Ext4Errno.None));
            }

            Assert.That(v.WriteFile(b, 0, chunk, out int none, callerUid: 1000, callerGid: 1000), Is.EqualTo(Ext4Errno.ENOSPC));
            Assert.That(none, Is.Zero);
            // Root may use the reserved blocks.
            var rootErr = v.WriteFile(b, 0, chunk.AsSpan(0, 64 << 10), out int rw);
            Assert.That(rootErr, Is.EqualTo(Ext4Errno.None));
            Assert.That(rw, Is.GreaterThan(0));
            rootExtra = rw;
        }

        img.AssertConsistent();
        Assert.That(img.Dump("/f1").Length, Is.EqualTo(rootExtra));
        var expectA = new byte[userTotal];
        for (long off = 0; off < userTotal; off += chunk.Length)
        {
            chunk.AsSpan(0, (int)Math.Min(chunk.Length, userTotal - off)).CopyTo(expectA.AsSpan((int)off));
        }

        Assert.That(img.Dump("/f0"), Is.EqualTo(expectA));

        using (var opened = img.Open())
        {
            var v = opened.Volume;
            Assert.That(v.SetSize(a, 0), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.WriteFile(c, 0, chunk, out int w, callerUid: 1000, callerGid: 1000), Is.EqualTo(Ext4Errno.None));
            Assert.That(w, Is.EqualTo(chunk.Length));
        }

        img.AssertConsistent();
        Assert.That(img.Dump("/f2"), Is.EqualTo(chunk));
    }

    [Test]
    public void BigallocIsReadOnlyForWrites()
    {
        using var img = WriteImage.Build("64M", 1, "-O", "bigalloc", "-C", "16384");
        uint ino = img.Ino("/f0");
        using var opened = img.Open();
        Assert.That(opened.Volume.IsReadOnly, Is.True, "Open forces bigalloc read-only (cluster allocation is not implemented)");
        Assert.That(opened.Volume.Warnings, Has.Some.Contains("bigalloc"));
        Assert.That(opened.Volume.WriteRefusal, Is.Not.Null);
        Assert.That(opened.Volume.WriteFile(ino, 0, [1], out _), Is.EqualTo(Ext4Errno.EROFS));
    }
}
