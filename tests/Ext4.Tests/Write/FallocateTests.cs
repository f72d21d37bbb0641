namespace Safemount.Ext4.Tests.Write;

/// <summary>fallocate modes, unwritten extents and SEEK_DATA/SEEK_HOLE on real images, with e2fsck and debugfs as oracles.</summary>
public class FallocateTests
{
    private const int KeepSize = 0x01;
    private const int PunchHole = 0x02;
    private const int ZeroRange = 0x10;

    private static readonly object[] s_extentLayouts =
    [
        new object[] { new[] { "-b", "4096", "-O", "metadata_csum,64bit" } },
        new object[] { new[] { "-b", "1024", "-O", "^metadata_csum" } },
    ];

    [TestCaseSource(nameof(s_extentLayouts))]
    public void PreallocationIsUnwrittenAndReadsAsZeros(string[] mkfs)
    {
        using var img = WriteImage.Build("64M", 2, mkfs);
        uint a = img.Ino("/f0");
        uint b = img.Ino("/f1");
        var data = new byte[5000];
        new Random(7).NextBytes(data);
        int bs;
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            bs = (int)v.BlockSize;
            Assert.That(v.Fallocate(a, 0, 0, 1 << 20), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.ReadInode(a).Size, Is.EqualTo(1 << 20));
            Assert.That(v.Fallocate(b, KeepSize, 0, 1 << 20), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.ReadInode(b).Size, Is.Zero, "KEEP_SIZE");
            Assert.That(v.ReadInode(b).Blocks512, Is.EqualTo((ulong)(1 << 20) / 512));
            // A write into the middle of the preallocation converts just what it covers.
            Assert.That(v.WriteFile(a, 3 * bs + 100, data, out _), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.WriteFile(b, 0, data, out _), Is.EqualTo(Ext4Errno.None));
        }

        img.AssertConsistent();
        var expectA = new byte[1 << 20];
        data.CopyTo(expectA, 3 * bs + 100);
        Assert.That(img.Dump("/f0"), Is.EqualTo(expectA));
        Assert.That(img.Dump("/f1"), Is.EqualTo(data));
        var ex = img.Extents("/f0");
        Assert.That(ex.Count(e => e.Uninit), Is.EqualTo(2), "unwritten before and after the written middle");
        Assert.That(ex.Count(e => !e.Uninit), Is.EqualTo(1));
        Assert.That(ex.Sum(e => e.Length), Is.EqualTo((1 << 20) / bs));
        var exB = img.Extents("/f1");
        Assert.That(exB.Last().Uninit, Is.True, "preallocation past EOF stays unwritten");
    }

    [TestCaseSource(nameof(s_extentLayouts))]
    public void LargePreallocationSpansGroupsAndStopsAtEnospc(string[] mkfs)
    {
        using var img = WriteImage.Build("64M", 2, mkfs);
        uint a = img.Ino("/f0"), b = img.Ino("/f1");
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            Assert.That(v.Fallocate(a, 0, 0, 40L << 20), Is.EqualTo(Ext4Errno.None), "more than one group's worth in one call");
            Assert.That(v.ReadInode(a).Size, Is.EqualTo(40L << 20));
            Assert.That(v.Fallocate(b, KeepSize, 0, 10L << 30), Is.EqualTo(Ext4Errno.ENOSPC), "more than the volume holds");
            Assert.That(v.ReadInode(b).Size, Is.Zero);
            Assert.That(v.ReadInode(b).Blocks512, Is.GreaterThan(0ul), "what could be allocated stays allocated");
        }

        img.AssertConsistent();
        Assert.That(img.Dump("/f0"), Is.EqualTo(new byte[40 << 20]));
        Assert.That(img.Extents("/f0").All(e => e.Uninit), Is.True);
    }

    [TestCaseSource(nameof(s_extentLayouts))]
    public void TruncateToTheSameSizeDropsPreallocationPastEof(string[] mkfs)
    {
        using var img = WriteImage.Build("32M", 2, mkfs);
        uint a = img.Ino("/f0"), b = img.Ino("/f1");
        long free = img.FreeBlocks();
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            Assert.That(v.WriteFile(a, 0, new byte[1000], out _), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Fallocate(a, KeepSize, 0, 300_000), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Fallocate(b, KeepSize, 0, 300_000), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.SetSize(a, 1000), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.SetSize(b, 0), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.ReadInode(a).Blocks512, Is.EqualTo((ulong)v.BlockSize / 512), "only the block holding the data");
            Assert.That(v.ReadInode(b).Blocks512, Is.Zero);
        }

        img.AssertConsistent();
        Assert.That(img.FreeBlocks(), Is.EqualTo(free - 1));
        Assert.That(img.Dump("/f0"), Is.EqualTo(new byte[1000]));
    }

    [TestCaseSource(nameof(s_extentLayouts))]
    public void PunchHoleAndZeroRange(string[] mkfs)
    {
        using var img = WriteImage.Build("64M", 1, mkfs);
        uint ino = img.Ino("/f0");
        var model = new byte[3 << 20];
        new Random(8).NextBytes(model);
        long freeBefore;
        long bs;
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            Assert.That(v.WriteFile(ino, 0, model, out _), Is.EqualTo(Ext4Errno.None));
        }

        freeBefore = img.FreeBlocks();
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            Assert.That(v.Fallocate(ino, PunchHole, 100, 2), Is.EqualTo(Ext4Errno.EOPNOTSUPP), "PUNCH_HOLE needs KEEP_SIZE");
            Assert.That(v.Fallocate(ino, 0x08, 0, 4096), Is.EqualTo(Ext4Errno.EOPNOTSUPP), "COLLAPSE_RANGE");
            Assert.That(v.Fallocate(ino, PunchHole | KeepSize, 12345, 700_000), Is.EqualTo(Ext4Errno.None));
            model.AsSpan(12345, 700_000).Clear();
            bs = v.BlockSize;
        }

        long whole = ((12345 + 700_000) / bs) - ((12345 + bs - 1) / bs);
        Assert.That(img.FreeBlocks(), Is.InRange(freeBefore + whole - 1, freeBefore + whole), "the punched whole blocks were freed (one tree block may be added by the split)");
        img.AssertConsistent();
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            Assert.That(v.Fallocate(ino, ZeroRange, 1_000_001, 500_000), Is.EqualTo(Ext4Errno.None));
            model.AsSpan(1_000_001, 500_000).Clear();
            Assert.That(v.Fallocate(ino, ZeroRange | KeepSize, 3_000_000, 1_000_000), Is.EqualTo(Ext4Errno.None));
            model.AsSpan(3_000_000).Clear();
            Assert.That(v.ReadInode(ino).Size, Is.EqualTo(model.Length), "KEEP_SIZE keeps i_size");
            Assert.That(v.Fallocate(ino, PunchHole | KeepSize, 2_000_000, 10), Is.EqualTo(Ext4Errno.None), "inside one block: only zeros");
            model.AsSpan(2_000_000, 10).Clear();
        }

        img.AssertConsistent();
        Assert.That(img.Dump("/f0"), Is.EqualTo(model));
        Assert.That(img.Extents("/f0").Any(e => e.Uninit), Is.True, "zeroed whole blocks are unwritten");
    }

    [TestCaseSource(nameof(s_extentLayouts))]
    public void SeekDataAndHole(string[] mkfs)
    {
        using var img = WriteImage.Build("32M", 1, mkfs);
        uint ino = img.Ino("/f0");
        using var opened = img.Open();
        var v = opened.Volume;
        long bs = v.BlockSize;
        Assert.That(v.WriteFile(ino, 10 * bs, new byte[bs * 2], out _), Is.EqualTo(Ext4Errno.None));
        Assert.That(v.Fallocate(ino, 0, 20 * bs, 5 * bs), Is.EqualTo(Ext4Errno.None)); // unwritten: a hole for SEEK_DATA
        Assert.That(v.WriteFile(ino, 30 * bs + 5, [1], out _), Is.EqualTo(Ext4Errno.None));
        long size = (30 * bs) + 6;
        Assert.That(v.SeekData(ino, 0, out long d), Is.EqualTo(Ext4Errno.None));
        Assert.That(d, Is.EqualTo(10 * bs));
        Assert.That(v.SeekHole(ino, 10 * bs + 7, out long h), Is.EqualTo(Ext4Errno.None));
        Assert.That(h, Is.EqualTo(12 * bs));
        Assert.That(v.SeekData(ino, 12 * bs, out d), Is.EqualTo(Ext4Errno.None));
        Assert.That(d, Is.EqualTo(30 * bs), "unwritten blocks are skipped");
        Assert.That(v.SeekHole(ino, 30 * bs, out h), Is.EqualTo(Ext4Errno.None));
        Assert.That(h, Is.EqualTo(size), "EOF is a hole");
        Assert.That(v.SeekData(ino, size, out _), Is.EqualTo(Ext4Errno.ENXIO));
        Assert.That(v.SeekHole(ino, 3, out h), Is.EqualTo(Ext4Errno.None));
        Assert.That(h, Is.EqualTo(3));
    }

    [Test]
    public void BlockMappedFilesRefusePreallocationButPunch()
    {
        using var img = WriteImage.Build("32M", 1, "-t", "ext3");
        uint ino = img.Ino("/f0");
        var model = new byte[200_000];
        new Random(9).NextBytes(model);
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            Assert.That(v.WriteFile(ino, 0, model, out _), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Fallocate(ino, 0, 0, 4096), Is.EqualTo(Ext4Errno.EOPNOTSUPP));
            Assert.That(v.Fallocate(ino, ZeroRange, 0, 4096), Is.EqualTo(Ext4Errno.EOPNOTSUPP));
            Assert.That(v.Fallocate(ino, PunchHole | KeepSize, 5000, 150_000), Is.EqualTo(Ext4Errno.None));
            model.AsSpan(5000, 150_000).Clear();
        }

        img.AssertConsistent();
        Assert.That(img.Dump("/f0"), Is.EqualTo(model));
    }
}
