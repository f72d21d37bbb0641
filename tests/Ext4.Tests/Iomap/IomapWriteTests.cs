using Safemount.Ext4.Tests.Write;

namespace Safemount.Ext4.Tests.Iomap;

/// <summary>
/// The write half of the iomap data path on real images, played as a fuse-iomap kernel plays
/// it: IOMAP_BEGIN (MapFileRangeForWrite), the kernel's own write of whole blocks to the device
/// at the mapped address (here: into the image file), then IOMAP_IOEND (CompleteFileWrite).
/// The oracles: debugfs "ex" for the extent states between the steps, e2fsck -fn, debugfs dump
/// and the kernel's ext4 for the bytes.
/// </summary>
public class IomapWriteTests
{
    private static readonly object[] s_extentLayouts = [new object[] { 4096 }, new object[] { 1024 }];

    [TestCaseSource(nameof(s_extentLayouts))]
    public void WritesAllocateUnwrittenAndIoendConvertsAndGrowsTheFile(int bs)
    {
        using var img = IomapImage.BuildSparse(bs, extents: true);
        uint ino = img.Ino("/s");
        byte[] expected = img.Dump("/s");
        long size0 = expected.Length;
        long free0 = img.FreeBlocks();
        var before = IomapImage.BlockTable(img, "/s", IomapImage.SparseBlocks, extents: true);
        var rng = new Random(5);
        byte[] small = Bytes(rng, 200), whole = Bytes(rng, bs), tail = Bytes(rng, (2 * bs) + 10);
        Ext4Mapping hole, over, prealloc, append, zero;
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            Assert.That(v.MapFileRangeForWrite(ino, (5L * bs) + 100, small.Length, zero: false, out hole), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.MapFileRangeForWrite(ino, 10, 20, zero: false, out over), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.MapFileRangeForWrite(ino, 15L * bs, bs, zero: false, out prealloc), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.MapFileRangeForWrite(ino, 30L * bs, tail.Length, zero: false, out append), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.MapFileRangeForWrite(ino, 7L * bs, bs, zero: true, out zero), Is.EqualTo(Ext4Errno.None));
        }

        Assert.That(hole with { DeviceOffset = 0 }, Is.EqualTo(new Ext4Mapping(Ext4MappingKind.Unwritten, 5L * bs, bs, 0, New: true)), "a hole becomes one new unwritten block");
        Assert.That(over, Is.EqualTo(new Ext4Mapping(Ext4MappingKind.Mapped, 0, 3L * bs, before[0].Physical * bs)), "a pure overwrite maps the written extent as it is, to its end");
        Assert.That(prealloc, Is.EqualTo(new Ext4Mapping(Ext4MappingKind.Unwritten, 15L * bs, 3L * bs, before[15].Physical * bs)), "preallocated blocks are used, not reallocated");
        Assert.That(append with { DeviceOffset = 0 }, Is.EqualTo(new Ext4Mapping(Ext4MappingKind.Unwritten, 30L * bs, 3L * bs, 0, New: true)), "an append past EOF");
        Assert.That(zero, Is.EqualTo(new Ext4Mapping(Ext4MappingKind.Hole, 7L * bs, bs, -1)), "zeroing leaves a hole a hole");

        // Before IOEND: the new blocks are allocated, unwritten, and the file is consistent and unchanged.
        img.AssertConsistent();
        // Six extents no longer fit the four slots of i_block: the tree grows one leaf block.
        Assert.That(img.ExtentDepth("/s"), Is.EqualTo(1));
        Assert.That(free0 - img.FreeBlocks(), Is.EqualTo(4 + 1), "one block for the hole, three for the append, one extent leaf");
        Assert.That(img.Dump("/s"), Is.EqualTo(expected), "unwritten blocks read as before; i_size unchanged");
        var mid = IomapImage.BlockTable(img, "/s", 33, extents: true);
        Assert.That((mid[5].Physical * bs, mid[5].Uninit), Is.EqualTo((hole.DeviceOffset, true)));
        Assert.That((mid[30].Physical * bs, mid[30].Uninit, mid[32].Physical - mid[30].Physical), Is.EqualTo((append.DeviceOffset, true, 2L)));

        // The kernel writes whole blocks (zeros around partial data) at the mapped addresses.
        var blockAt5 = new byte[bs];
        small.CopyTo(blockAt5, 100);
        img.Image.Patch(hole.DeviceOffset, blockAt5);
        img.Image.Patch(prealloc.DeviceOffset, whole);
        var appendBlocks = new byte[3 * bs];
        tail.CopyTo(appendBlocks, 0);
        img.Image.Patch(append.DeviceOffset, appendBlocks);

        long s1, s2, s3;
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            Assert.That(v.CompleteFileWrite(ino, (5L * bs) + 100, small.Length, unwritten: true, out s1), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.CompleteFileWrite(ino, 15L * bs, bs, unwritten: true, out s2), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.CompleteFileWrite(ino, 30L * bs, tail.Length, unwritten: true, out s3), Is.EqualTo(Ext4Errno.None));
        }

        Assert.That((s1, s2, s3), Is.EqualTo((size0, size0, (30L * bs) + tail.Length)), "newsize: i_size grows only with the append");
        img.AssertConsistent();
        var after = IomapImage.BlockTable(img, "/s", 33, extents: true);
        Assert.That(new[] { after[5].Uninit, after[14].Uninit, after[15].Uninit, after[16].Uninit, after[30].Uninit, after[32].Uninit },
            Is.EqualTo(new[] { false, true, false, true, false, false }), "exactly the written blocks were converted");
        var want = new byte[(30 * bs) + tail.Length];
        expected.CopyTo(want, 0);
        small.CopyTo(want, (5 * bs) + 100);
        whole.CopyTo(want, 15 * bs);
        tail.CopyTo(want, 30 * bs);
        Assert.That(img.Dump("/s"), Is.EqualTo(want), "debugfs reads the written bytes");
        AssertKernelReads(img, want, $"iomap-ext-{bs}");
    }

    [TestCaseSource(nameof(s_extentLayouts))]
    public void IoendOfAFailedOrUnconvertedRangeChangesNothingAndConvertsOnlyTheRange(int bs)
    {
        using var img = IomapImage.BuildSparse(bs, extents: true);
        uint ino = img.Ino("/s");
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            // One block in the middle of the 14-17 preallocation: the extent splits in three.
            Assert.That(v.CompleteFileWrite(ino, (16L * bs) + 1, bs - 2, unwritten: true, out long size), Is.EqualTo(Ext4Errno.None));
            Assert.That(size, Is.EqualTo((23L * bs) + 100));
            // written 0: nothing to convert, size unchanged.
            Assert.That(v.CompleteFileWrite(ino, 14L * bs, 0, unwritten: true, out long same), Is.EqualTo(Ext4Errno.None));
            Assert.That(same, Is.EqualTo(size));
            Assert.That(v.CompleteFileWrite(ino, -1, 1, unwritten: true, out _), Is.EqualTo(Ext4Errno.EINVAL));
        }

        img.AssertConsistent();
        var t = IomapImage.BlockTable(img, "/s", IomapImage.SparseBlocks, extents: true);
        Assert.That(new[] { t[14].Uninit, t[15].Uninit, t[16].Uninit, t[17].Uninit }, Is.EqualTo(new[] { true, true, false, true }));
        Assert.That(t[16].Physical - t[14].Physical, Is.EqualTo(2), "converted in place");
    }

    [TestCase(1024)]
    [TestCase(4096)]
    public void BlockMappedFilesGetZeroedWrittenBlocks(int bs)
    {
        using var img = IomapImage.BuildSparse(bs, extents: false);
        uint ino = img.Ino("/s");
        byte[] expected = img.Dump("/s");
        byte[] data = Bytes(new Random(9), bs + 33);
        Ext4Mapping hole, append;
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            Assert.That(v.MapFileRangeForWrite(ino, 4L * bs, bs, zero: false, out hole), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.MapFileRangeForWrite(ino, 26L * bs, data.Length, zero: false, out append), Is.EqualTo(Ext4Errno.None));
        }

        Assert.That((hole.Kind, hole.Offset, hole.Length, hole.New), Is.EqualTo((Ext4MappingKind.Mapped, 4L * bs, (long)bs, true)), "no unwritten state in a block map");
        Assert.That((append.Kind, append.Offset, append.Length, append.New), Is.EqualTo((Ext4MappingKind.Mapped, 26L * bs, 2L * bs, true)));
        var table = IomapImage.BlockTable(img, "/s", 28, extents: false);
        Assert.That(table[4].Physical * bs, Is.EqualTo(hole.DeviceOffset), "bmap agrees");
        Assert.That(table[26].Physical * bs, Is.EqualTo(append.DeviceOffset));
        Assert.That(img.Image.ReadImage(hole.DeviceOffset, bs), Is.All.Zero, "new blocks hold zeros, not what was on the disk");
        Assert.That(img.Dump("/s"), Is.EqualTo(expected), "a zeroed block inside EOF reads as the hole did");

        var blocks = new byte[2 * bs];
        data.CopyTo(blocks, 0);
        img.Image.Patch(append.DeviceOffset, blocks);
        using (var opened = img.Open())
        {
            Assert.That(opened.Volume.CompleteFileWrite(ino, 26L * bs, data.Length, unwritten: false, out long size), Is.EqualTo(Ext4Errno.None));
            Assert.That(size, Is.EqualTo((26L * bs) + data.Length));
        }

        img.AssertConsistent();
        var want = new byte[(26 * bs) + data.Length];
        expected.CopyTo(want, 0);
        data.CopyTo(want, 26 * bs);
        Assert.That(img.Dump("/s"), Is.EqualTo(want));
        AssertKernelReads(img, want, $"iomap-ind-{bs}");
    }

    [Test]
    public void AWriteToAnInlineFileConvertsItToBlocksFirst()
    {
        using var img = WriteImage.Wrap(Support.TestImage.Build(src => File.WriteAllText(Path.Combine(src, "small"), "inline bytes"), "8M", "-O", "inline_data"));
        uint ino = img.Ino("/small");
        Ext4Mapping m;
        using (var opened = img.Open())
        {
            Assert.That(opened.Volume.MapFileRangeForWrite(ino, 8192, 10, zero: false, out m), Is.EqualTo(Ext4Errno.None));
        }

        Assert.That((m.Kind, m.Offset, m.New), Is.EqualTo((Ext4MappingKind.Unwritten, 8192L, true)));
        img.AssertConsistent();
        Assert.That(Support.Tool.Debugfs(img.Path, "stat /small"), Does.Not.Contain("Size of inline data"));
        Assert.That(img.Dump("/small"), Is.EqualTo("inline bytes"u8.ToArray()), "the inline bytes moved to a block");
    }

    [Test]
    public void TheLargestFileSizeIsEfbig()
    {
        using var img = IomapImage.BuildSparse(1024, extents: true);
        uint ino = img.Ino("/s");
        using var opened = img.Open();
        var v = opened.Volume;
        Assert.That(v.MaxFileBytes, Is.EqualTo(((1L << 32) - 1) * 1024), "ext4_max_size with huge_file at 1 KiB blocks");
        Assert.That(v.MapFileRangeForWrite(ino, v.MaxFileBytes, 1024, zero: false, out _), Is.EqualTo(Ext4Errno.EFBIG));
    }

    private static void AssertKernelReads(WriteImage img, byte[] want, string name)
    {
        if (!DirsKernel.IsRoot)
        {
            Assert.Ignore("the kernel oracle needs root (loop mount)");
        }

        string b64 = DirsKernel.ReadOnly(img.Path, img.Image.Scratch(name), "base64 -w0 \"$M/s\"").Trim();
        Assert.That(Convert.FromBase64String(b64), Is.EqualTo(want), "the kernel's ext4 reads the same bytes");
    }

    private static byte[] Bytes(Random rng, int n)
    {
        var b = new byte[n];
        rng.NextBytes(b);
        return b;
    }
}
