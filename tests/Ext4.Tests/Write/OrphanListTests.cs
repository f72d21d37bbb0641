using System.Buffers.Binary;
using System.Text.RegularExpressions;
using Safemount.Ext4.Format;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Write;

/// <summary>The s_last_orphan chain: add, remove at head, middle and tail, reload; dumpe2fs, debugfs and e2fsck read it back.</summary>
[TestFixture]
public sealed class OrphanListTests
{
    private static TestImage Build(params string[] mkfs) =>
        TestImage.Build(src =>
        {
            for (int i = 0; i < 6; i++)
            {
                File.WriteAllText(Path.Combine(src, $"o{i}"), new string('o', 5000 * (i + 1)));
            }
        }, "16M", mkfs);

    private static uint Ino(TestImage image, string path) =>
        uint.Parse(Regex.Match(Tool.Debugfs(image.ImagePath, $"stat {path}"), @"Inode: (\d+)").Groups[1].Value);

    /// <summary>The chain as the disk holds it: s_last_orphan, then each inode's i_dtime.</summary>
    /// <summary>
    /// The orphan chain as a mount would find it: read through a read-only open, which replays a
    /// live journal into memory (with a journal, a Sync without unmount leaves the chain there).
    /// </summary>
    private static List<uint> DiskChain(TestImage image)
    {
        using var opened = image.Open();
        var chain = new List<uint>();
        for (uint ino = BinaryPrimitives.ReadUInt32LittleEndian(opened.Volume.Sb.Raw.AsSpan(SuperblockLayout.s_last_orphan)); ino != 0 && chain.Count < 100;)
        {
            chain.Add(ino);
            ino = BinaryPrimitives.ReadUInt32LittleEndian(opened.Volume.ReadInode(ino).Raw.AsSpan(InodeLayout.i_dtime));
        }

        return chain;
    }

    private static void Edit(Ext4Volume v, uint ino, Action<Ext4Transaction> action)
    {
        using var held = v.InodeLocks.Acquire(ino, exclusive: true);
        using var tx = v.Begin();
        action(tx);
    }

    [TestCase("-O", "metadata_csum")]
    [TestCase("-O", "^metadata_csum", "-I", "128")]
    public void ChainSurvivesAddsRemovesAndReopen(params string[] mkfs)
    {
        using var image = Build(mkfs);
        uint[] o = Enumerable.Range(0, 6).Select(i => Ino(image, $"/o{i}")).ToArray();
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            foreach (uint ino in o[..4])
            {
                Edit(v, ino, tx => v.Orphans.Add(tx, ino));
            }

            // An inode written while on the list keeps its chain link, whatever the record said.
            Edit(v, o[2], tx =>
            {
                var r = InodeRecord.From(v, v.ReadInode(o[2]));
                r.Dtime = 0;
                r.Uid = 99;
                v.WriteInode(tx, r);
            });
        }

        Assert.That(DiskChain(image), Is.EqualTo(new[] { o[3], o[2], o[1], o[0] }));
        Assert.That(Tool.Debugfs(image.ImagePath, $"stat <{o[2]}>"), Does.Match(@"User:\s+99\s"));

        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            Assert.That(v.Orphans.Load(), Is.EqualTo(new[] { o[3], o[2], o[1], o[0] }));
            Edit(v, o[2], tx => Assert.That(v.Orphans.Remove(tx, o[2]), Is.True));   // middle
            Edit(v, o[3], tx => Assert.That(v.Orphans.Remove(tx, o[3]), Is.True));   // head
            Edit(v, o[5], tx => Assert.That(v.Orphans.Remove(tx, o[5]), Is.False));  // not on it
            Edit(v, o[4], tx => v.Orphans.Add(tx, o[4]));
            Edit(v, o[0], tx => Assert.That(v.Orphans.Remove(tx, o[0]), Is.True));   // tail
        }

        Assert.That(DiskChain(image), Is.EqualTo(new[] { o[4], o[1] }));
        foreach (uint ino in new[] { o[0], o[2], o[3] })
        {
            Assert.That(Tool.Debugfs(image.ImagePath, $"stat <{ino}>"), Does.Not.Contain("dtime:"), $"inode {ino} left the list with i_dtime 0");
        }

        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            v.Orphans.Load();
            Edit(v, o[1], tx => v.Orphans.Remove(tx, o[1]));
            Edit(v, o[4], tx => v.Orphans.Remove(tx, o[4]));
        }

        Assert.That(DiskChain(image), Is.Empty);
        Assert.That(Tool.FsckClean(image.ImagePath, out string output), Is.True, output);
    }

    [Test]
    public void LoopsAndBadNumbersAreCorruption()
    {
        using var image = Build("-O", "metadata_csum");
        uint a = Ino(image, "/o0"), b = Ino(image, "/o1");
        Tool.Check("debugfs", "-w", "-R", $"ssv last_orphan {a}", image.ImagePath);
        Tool.Check("debugfs", "-w", "-R", $"sif <{a}> dtime {b}", image.ImagePath);
        Tool.Check("debugfs", "-w", "-R", $"sif <{b}> dtime {a}", image.ImagePath);
        using (var opened = image.Open())
        {
            var e = Assert.Throws<Ext4CorruptionException>(() => opened.Volume.Orphans.Load());
            Assert.That(e!.Message, Is.EqualTo($"orphan list: inode {a} appears twice (a loop)"));
        }

        Tool.Check("debugfs", "-w", "-R", $"sif <{b}> dtime 5", image.ImagePath);
        using (var opened = image.Open())
        {
            var e = Assert.Throws<Ext4CorruptionException>(() => opened.Volume.Orphans.Load());
            Assert.That(e!.Message, Is.EqualTo("orphan list: bad inode number 5"));
        }
    }

    [TestCase("-O", "metadata_csum")]
    [TestCase("-t", "ext3", "-b", "1024")]
    public void UnlinkedButReferencedInodesLiveOnTheOrphanListUntilReleased(params string[] mkfs)
    {
        using var image = Build(mkfs);
        byte[] data = new byte[300_000];
        new Random(7).NextBytes(data);
        uint ino;
        long freeBefore;
        var referenced = new HashSet<uint>();
        var opened = image.OpenWritable();
        var v = opened.Volume;
        freeBefore = v.FreeClustersCount;
        v.IsReferenced = n => referenced.Contains(n);
        Assert.That(v.Create(2, "victim"u8, 0x81A4, 0, 0, out var created), Is.EqualTo(Ext4Errno.None));
        ino = created!.Number;
        Assert.That(v.WriteFile(ino, 0, data, out int written), Is.EqualTo(Ext4Errno.None));
        Assert.That(written, Is.EqualTo(data.Length));
        referenced.Add(ino);
        Assert.That(v.Unlink(2, "victim"u8), Is.EqualTo(Ext4Errno.None));

        var orphan = v.ReadInode(ino);
        Assert.That(orphan.LinksCount, Is.EqualTo(0));
        Assert.That(v.IsUnlinkedOrphan(orphan), Is.True);
        var back = new byte[data.Length];
        Assert.That(v.Read(orphan, 0, back), Is.EqualTo(data.Length));
        Assert.That(back, Is.EqualTo(data), "an open unlinked file keeps its data");
        Assert.That(v.FreeClustersCount, Is.LessThan(freeBefore));
        v.Sync();

        // A crash now: the list on disk names the inode.
        Assert.That(DiskChain(image), Is.EqualTo(new[] { ino }));
        opened.Dispose();

        using (var again = image.OpenWritable())
        {
            Assert.That(again.Volume.CleanupOrphans(loadFromDisk: true), Is.EqualTo(1));
            Assert.That(again.Volume.OrphanCount, Is.EqualTo(0));
            Assert.That(again.Volume.FreeClustersCount, Is.EqualTo(freeBefore), "every block came back");
        }

        Assert.That(DiskChain(image), Is.Empty);
        Assert.That(Tool.FsckClean(image.ImagePath, out string output), Is.True, output);
        Assert.That(Tool.Debugfs(image.ImagePath, $"stat <{ino}>"), Does.Contain("Links: 0"));
    }

    [Test]
    public void ReleaseOnLastReferenceFreesAtOnce()
    {
        using var image = Build("-O", "metadata_csum");
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            bool held = true;
            v.IsReferenced = _ => held;
            long free = v.FreeClustersCount;
            Assert.That(v.Create(2, "tmp"u8, 0x81A4, 0, 0, out var created), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.WriteFile(created!.Number, 0, new byte[50_000], out _), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Unlink(2, "tmp"u8), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.OrphanCount, Is.EqualTo(1));
            held = false;
            Assert.That(v.ReleaseIfOrphan(created.Number), Is.True);
            Assert.That(v.ReleaseIfOrphan(created.Number), Is.False, "released once");
            Assert.That(v.OrphanCount, Is.EqualTo(0));
            Assert.That(v.FreeClustersCount, Is.EqualTo(free));
        }

        Assert.That(DiskChain(image), Is.Empty);
        Assert.That(Tool.FsckClean(image.ImagePath, out string output), Is.True, output);
    }
}
