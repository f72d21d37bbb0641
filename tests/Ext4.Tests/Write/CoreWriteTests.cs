using System.Text.RegularExpressions;
using Safemount.Ext4.Format;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// The write core (transactions, copy-on-write cache, inode and descriptor writes, superblock
/// bookkeeping) on real mkfs images; e2fsck -fn and debugfs are the oracles.
/// </summary>
[TestFixture]
public sealed class CoreWriteTests
{
    private static TestImage Build(params string[] mkfs) =>
        TestImage.Build(src =>
        {
            for (int i = 0; i < 40; i++)
            {
                File.WriteAllText(Path.Combine(src, $"f{i:D2}"), new string('x', i * 100));
            }
        }, "16M", mkfs);

    private static uint Ino(TestImage image, string path) =>
        uint.Parse(Regex.Match(Tool.Debugfs(image.ImagePath, $"stat {path}"), @"Inode: (\d+)").Groups[1].Value);

    private static void AssertFsckClean(TestImage image)
    {
        Assert.That(Tool.FsckClean(image.ImagePath, out string output), Is.True, output);
    }

    [TestCase("-b", "4096", "-O", "metadata_csum,64bit")]
    [TestCase("-b", "1024", "-O", "^metadata_csum,^64bit", "-I", "128")]
    [TestCase("-b", "2048", "-O", "metadata_csum,^64bit", "-I", "256")]
    [TestCase("-t", "ext2")]
    public void InodeChangesReachTheDiskWithValidChecksums(params string[] mkfs)
    {
        using var image = Build(mkfs);
        uint ino = Ino(image, "/f07");
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            Assert.That(v.IsReadOnly, Is.False);
            var before = v.ReadInode(ino);
            var r = InodeRecord.From(v, before);
            r.Mode = (ushort)(InodeLayout.S_IFREG | 0x1ED); // 0755
            r.Uid = 70000;
            r.Gid = 123456;
            r.SetMtime(-86400 * 400L, 5);                   // before 1970
            r.SetAtime(4_000_000_000L, 999_999_999);        // after 2038
            r.SetCtime(1_700_000_000L, 123_456_789);
            r.Version = 0x1_0000_0002UL;
            Ext4Inode written;
            using (var tx = v.Begin())
            {
                written = v.WriteInode(tx, r);
            }

            Assert.That(written.Uid, Is.EqualTo(70000u));
            var again = v.ReadInode(ino);
            Assert.That(again.Mode, Is.EqualTo(written.Mode));
            Assert.That(again.Gid, Is.EqualTo(123456u));
            Assert.That(again.Size, Is.EqualTo(before.Size));
            if (again.HasCrtime)
            {
                Assert.That((again.AtimeSeconds, again.AtimeNanoseconds), Is.EqualTo((4_000_000_000L, 999_999_999u)));
                Assert.That((again.MtimeSeconds, again.MtimeNanoseconds), Is.EqualTo((-86400 * 400L, 5u)));
            }
        }

        AssertFsckClean(image);
        string stat = Tool.Debugfs(image.ImagePath, "stat /f07");
        Assert.That(stat, Does.Contain("User: 70000").And.Contain("Group: 123456"));
        Assert.That(stat, Does.Match(@"Mode:\s+0755"));
        string header = Tool.Check("dumpe2fs", "-h", image.ImagePath);
        Assert.That(header, Does.Match(@"Filesystem state:\s+clean\n"), "a clean unmount sets EXT4_VALID_FS again");
        Assert.That(header, Does.Match(@"Mount count:\s+1\n"));
    }

    [Test]
    public void DirtyStateWithoutUnmountIsMarkedNotClean()
    {
        // Without a journal, changes are written in place and the volume says "not clean" meanwhile.
        using var image = Build("-O", "metadata_csum,^has_journal");
        uint ino = Ino(image, "/f01");
        var opened = image.OpenWritable();
        var v = opened.Volume;
        Assert.That(v.IsJournaled, Is.False);
        ChangeUid(v, ino, 4242);
        v.Sync();

        // A crash here: the volume is never unmounted (only the device is closed).
        string header = Tool.Check("dumpe2fs", "-h", image.ImagePath);
        Assert.That(header, Does.Match(@"Filesystem state:\s+not clean\n"));
        Assert.That(Tool.Debugfs(image.ImagePath, "stat /f01"), Does.Match(@"User:\s+4242\s"));
        opened.Dispose();
        Assert.That(Tool.Check("dumpe2fs", "-h", image.ImagePath), Does.Match(@"Filesystem state:\s+clean\n"));
        AssertFsckClean(image);
    }

    [Test]
    public void JournaledChangeWithoutUnmountNeedsRecoveryAndIsReplayed()
    {
        // With a journal, a Sync is a commit: the change is in the log, the home location is
        // old until a checkpoint, and the volume is marked needs_recovery while mounted.
        using var image = Build("-O", "metadata_csum");
        uint ino = Ino(image, "/f01");
        var opened = image.OpenWritable();
        var v = opened.Volume;
        Assert.That(v.IsJournaled, Is.True);
        ChangeUid(v, ino, 4242);
        v.Sync();

        string header = Tool.Check("dumpe2fs", "-h", image.ImagePath);
        Assert.That(header, Does.Match(@"Filesystem features:.*needs_recovery"));
        Assert.That(header, Does.Match(@"Filesystem state:\s+clean\n"), "with a journal the kernel keeps EXT4_VALID_FS while mounted");
        Assert.That(Tool.Debugfs(image.ImagePath, "logdump"), Does.Contain("Found expected sequence"));
        Assert.That(Tool.Debugfs(image.ImagePath, "stat /f01"), Does.Not.Match(@"User:\s+4242\s"), "not checkpointed yet");

        // A crash here; the next read-write open replays the journal onto the device.
        using (var again = image.OpenWritable())
        {
            Assert.That(again.Volume.ReadInode(ino).Uid, Is.EqualTo(4242u));
        }

        Assert.That(Tool.Check("dumpe2fs", "-h", image.ImagePath), Does.Not.Match(@"features:.*needs_recovery"));
        Assert.That(Tool.Debugfs(image.ImagePath, "stat /f01"), Does.Match(@"User:\s+4242\s"));
        AssertFsckClean(image);
    }

    private static void ChangeUid(Ext4Volume v, uint ino, ushort uid)
    {
        using var tx = v.Begin();
        var r = InodeRecord.From(v, v.ReadInode(ino));
        r.Uid = uid;
        v.WriteInode(tx, r);
    }

    [Test]
    public void NothingChangedLeavesTheImageUntouched()
    {
        using var image = Build("-O", "metadata_csum");
        byte[] before = File.ReadAllBytes(image.ImagePath);
        using (var opened = image.OpenWritable())
        {
            opened.Volume.Sync();
            Assert.That(opened.Volume.ReadInode(2).IsDirectory, Is.True);
        }

        Assert.That(File.ReadAllBytes(image.ImagePath).SequenceEqual(before), Is.True, "a read-write open that changes nothing writes nothing");
    }

    [TestCase("-O", "metadata_csum,64bit")]
    [TestCase("-O", "^metadata_csum,uninit_bg,^64bit")]
    [TestCase("-O", "^metadata_csum,^uninit_bg,^64bit")]
    public void GroupCountersRoundTripAndAreChecked(params string[] mkfs)
    {
        using var image = Build(mkfs);
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            var c = v.ReadGroupCounters(0);
            Assert.That(c.FreeBlocks, Is.EqualTo(v.Groups[0].bg_free_blocks_count));
            Assert.That(c.FreeInodes, Is.EqualTo(v.Groups[0].bg_free_inodes_count));
            using (var tx = v.Begin())
            {
                v.WriteGroupCounters(tx, 0, c);
            }
        }

        AssertFsckClean(image);

        // The oracle sees a wrong count: the write really lands in the descriptor, checksum re-sealed.
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            var c = v.ReadGroupCounters(0);
            c.FreeBlocks -= 1;
            using (var tx = v.Begin())
            {
                v.WriteGroupCounters(tx, 0, c);
            }
        }

        Assert.That(Tool.FsckClean(image.ImagePath, out string output), Is.False);
        Assert.That(output, Does.Contain("Free blocks count wrong for group #0"));
        Assert.That(output, Does.Not.Contain("checksum"), "the descriptor checksum was re-sealed");
    }

    [Test]
    public void SuperblockCountersFollowTheVolumeTotals()
    {
        using var image = Build("-O", "metadata_csum,64bit");
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            long blocks = v.FreeClustersCount;
            using (var tx = v.Begin())
            {
                var c = v.ReadGroupCounters(0);
                c.FreeInodes -= 1;
                v.WriteGroupCounters(tx, 0, c);
                v.AddFreeInodes(-1);
            }

            Assert.That(v.StatFs().FreeFiles, Is.EqualTo((ulong)(v.FreeInodesCount)));
            Assert.That(v.FreeClustersCount, Is.EqualTo(blocks));
        }

        string header = Tool.Check("dumpe2fs", "-h", image.ImagePath);
        uint groupFree = uint.Parse(Regex.Match(Tool.Check("dumpe2fs", image.ImagePath), @"Group 0:.*?(\d+) free inodes", RegexOptions.Singleline).Groups[1].Value);
        Assert.That(header, Does.Match(@"Free inodes:\s+\d+"));
        Assert.That(groupFree, Is.GreaterThan(0u));
        Assert.That(Tool.FsckClean(image.ImagePath, out string output), Is.False, "group 0 claims one inode fewer than its bitmap");
        Assert.That(output, Does.Contain("Free inodes count wrong for group #0"));
        Assert.That(output, Does.Not.Contain("superblock").IgnoreCase.Or.Contain("Free inodes count wrong ("), output);
    }

    [Test]
    public void ConcurrentEditsOfOneInodeTableBlockAreNotLost()
    {
        using var image = Build("-O", "metadata_csum", "-I", "256");
        uint[] inodes = Enumerable.Range(0, 16).Select(i => Ino(image, $"/f{i:D2}")).ToArray();
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            Parallel.For(0, inodes.Length * 50, new ParallelOptions { MaxDegreeOfParallelism = 8 }, k =>
            {
                uint ino = inodes[k % inodes.Length];
                using var held = v.InodeLocks.Acquire(ino, exclusive: true);
                using var tx = v.Begin();
                var r = InodeRecord.From(v, v.ReadInode(ino));
                r.Uid += 1;
                v.WriteInode(tx, r);
            });

            foreach (uint ino in inodes)
            {
                Assert.That(v.ReadInode(ino).Uid, Is.EqualTo(50u), $"inode {ino}");
            }

            Assert.That(v.InodeLocks.Count, Is.EqualTo(0), "every inode lock released");
        }

        AssertFsckClean(image);
        foreach (uint ino in inodes)
        {
            Assert.That(Tool.Debugfs(image.ImagePath, $"stat <{ino}>"), Does.Match(@"User:\s+50\s"));
        }
    }

    [Test]
    public void ReadOnlyVolumesRefuseHandles()
    {
        using var image = Build();
        using (var opened = image.Open())
        {
            Assert.That(opened.Volume.IsReadOnly, Is.True);
            Assert.Throws<Ext4ReadOnlyException>(() => opened.Volume.Begin());
        }

        using var handle = File.OpenHandle(image.ImagePath);
        using var device = new Storage.FileBlockDevice(handle, RandomAccess.GetLength(handle));
        using var v = Ext4Volume.Open(device, new Ext4OpenOptions { ReadOnly = false });
        Assert.That(v.IsReadOnly, Is.True);
        Assert.That(v.Warnings, Is.EqualTo(new[] { "the device is write-protected, mounted read-only" }));
    }

    [Test]
    public void DeviceNumbersUseTheKernelEncodings()
    {
        using var image = Build();
        Tool.Check("debugfs", "-w", "-R", "mknod c1 c 1 3", image.ImagePath);
        Tool.Check("debugfs", "-w", "-R", "mknod c2 b 300 300", image.ImagePath);
        uint c1 = Ino(image, "/c1"), c2 = Ino(image, "/c2");
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            using var tx = v.Begin();
            var r1 = InodeRecord.From(v, v.ReadInode(c1));
            r1.SetDevice(4, 64);
            Assert.That(v.WriteInode(tx, r1), Has.Property("RdevMajor").EqualTo(4u).And.Property("RdevMinor").EqualTo(64u));
            var r2 = InodeRecord.From(v, v.ReadInode(c2));
            r2.SetDevice(511, 1_000_000);
            Assert.That(v.WriteInode(tx, r2), Has.Property("RdevMajor").EqualTo(511u).And.Property("RdevMinor").EqualTo(1_000_000u));
        }

        AssertFsckClean(image);
        Assert.That(Tool.Debugfs(image.ImagePath, "stat /c1"), Does.Contain("Device major/minor number: 04:64 (hex 04:40)"));
        Assert.That(Tool.Debugfs(image.ImagePath, "stat /c2"), Does.Contain("Device major/minor number: 511:1000000 (hex 1ff:f4240)"));
    }

    [Test]
    public void ChangesAreWrittenBackOnTheCommitIntervalWithoutSync()
    {
        using var image = Build("-O", "metadata_csum");
        uint ino = Ino(image, "/f03");
        var handle = File.OpenHandle(image.ImagePath, FileMode.Open, FileAccess.ReadWrite);
        using var device = new Storage.FileBlockDevice(handle, RandomAccess.GetLength(handle), writable: true);
        using var v = Ext4Volume.Open(device, new Ext4OpenOptions { ReadOnly = false, CommitInterval = TimeSpan.FromMilliseconds(200) });
        using (var tx = v.Begin())
        {
            var r = InodeRecord.From(v, v.ReadInode(ino));
            r.Uid = 31337;
            v.WriteInode(tx, r);
        }

        // Polls the image through debugfs (a separate reader of the file) until the commit timer has written it.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string stat;
        do
        {
            Thread.Sleep(100);
            stat = Tool.Debugfs(image.ImagePath, $"stat <{ino}>");
        }
        while (!stat.Contains("User: 31337") && DateTime.UtcNow < deadline);

        Assert.That(stat, Does.Contain("User: 31337"));
        Assert.That(v.Cache.DirtyCount, Is.EqualTo(0));
    }

    [TestCase("quota", "quota")]
    [TestCase("project", "project")]
    [TestCase("ea_inode", "ea_inode")]
    public void FeaturesTheWritePathLacksOpenReadOnlyWithTheirNames(string feature, string named)
    {
        using var image = Build("-O", feature);
        byte[] before = File.ReadAllBytes(image.ImagePath);
        using (var opened = image.OpenWritable())
        {
            Assert.That(opened.Volume.IsReadOnly, Is.True);
            Assert.That(opened.Volume.Warnings, Has.Some.Contains("writing is not supported with feature").And.Contains(named));
        }

        Assert.That(File.ReadAllBytes(image.ImagePath).SequenceEqual(before), Is.True);
    }
}
