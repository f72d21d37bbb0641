using Safemount.Ext4.Tests.Support;
using Safemount.Ext4.Tests.Write;

namespace Safemount.Ext4.Tests.Iomap;

/// <summary>
/// The engine's iomap answers (Ext4Volume.MapFileRange / MapFileRangeForWrite /
/// CompleteFileWrite) on real images: every mapping is checked against what debugfs says backs
/// each block, and every write against e2fsck -fn, debugfs dump and the kernel's ext4.
/// </summary>
public class IomapMappingTests
{
    private static readonly object[] s_layouts =
    [
        new object[] { 4096, true },
        new object[] { 1024, true },
        new object[] { 1024, false },
        new object[] { 4096, false },
    ];

    /// <summary>Walks the whole file with read/report lookups of every size from one block to
    /// past EOF and checks each answer block by block against the extent tree or block map.</summary>
    [TestCaseSource(nameof(s_layouts))]
    public void ReadMappingsMatchTheExtentTreeAndBlockMap(int bs, bool extents)
    {
        using var img = IomapImage.BuildSparse(bs, extents);
        const int Blocks = IomapImage.SparseBlocks + 4; // and a little past EOF
        var table = IomapImage.BlockTable(img, "/s", 2 * Blocks, extents);
        uint ino = img.Ino("/s");
        using var opened = img.Image.Open();
        var v = opened.Volume;
        int answers = 0;
        foreach (int span in new[] { 1, 3, Blocks })
        {
            for (int startBlock = 0; startBlock < Blocks; startBlock++)
            {
                // An unaligned pos inside the block, as the kernel sends for a partial read.
                long pos = ((long)startBlock * bs) + (startBlock % 3 == 1 ? 17 : 0);
                long count = ((long)span * bs) - (pos % bs);
                Assert.That(v.MapFileRange(ino, pos, count, out Ext4Mapping m), Is.EqualTo(Ext4Errno.None));
                answers++;
                string at = $"pos {pos} count {count}";
                Assert.That(m.Offset, Is.EqualTo((long)startBlock * bs), $"{at}: offset is the block holding pos");
                Assert.That(m.Length % bs, Is.Zero, at);
                long len = m.Length / bs;
                Assert.That(len, Is.GreaterThanOrEqualTo(1), at);
                var first = table[startBlock];
                Ext4MappingKind expected = first.Physical == 0 ? Ext4MappingKind.Hole : first.Uninit ? Ext4MappingKind.Unwritten : Ext4MappingKind.Mapped;
                Assert.That(m.Kind, Is.EqualTo(expected), at);
                Assert.That(m.DeviceOffset, Is.EqualTo(expected == Ext4MappingKind.Hole ? -1 : first.Physical * bs), at);
                for (int i = 0; i < len; i++)
                {
                    var b = table[startBlock + i];
                    Assert.That(b.Physical == 0 ? 0 : b.Physical - i, Is.EqualTo(first.Physical), $"{at}: block {startBlock + i} continues the run");
                    Assert.That(b.Uninit, Is.EqualTo(first.Uninit), $"{at}: block {startBlock + i} same state");
                    if (extents)
                    {
                        Assert.That(b.Extent, Is.EqualTo(first.Extent), $"{at}: one extent (or one hole) per answer");
                    }
                }

                if (expected == Ext4MappingKind.Hole)
                {
                    Assert.That(len, Is.LessThanOrEqualTo(span), $"{at}: a hole is not reported past the blocks asked about");
                }

                if (extents)
                {
                    // An extent is answered to its end whatever was asked; a hole to the next
                    // extent or the end of the request, whichever comes first.
                    int run = 0;
                    while (startBlock + run < table.Length && table[startBlock + run].Extent == first.Extent && (first.Extent >= 0 || run < span))
                    {
                        run++;
                    }

                    Assert.That(len, Is.EqualTo(run), $"{at}: the answer ends where the extent (or the hole, or the request) does");
                }
            }
        }

        Assert.That(answers, Is.EqualTo(3 * Blocks));
    }

    [Test]
    public void InlineDataIsInlineForTheFirstBlockAndAHoleAfter()
    {
        using var img = WriteImage.Wrap(TestImage.Build(src => File.WriteAllText(Path.Combine(src, "small"), "inline bytes"), "8M", "-O", "inline_data"));
        Assert.That(Tool.Debugfs(img.Path, "stat /small"), Does.Contain("Size of inline data"), "the oracle says the data is inline");
        uint ino = img.Ino("/small");
        using var opened = img.Image.Open();
        var v = opened.Volume;
        int bs = (int)v.BlockSize;
        Assert.That(v.MapFileRange(ino, 3, 9, out Ext4Mapping m), Is.EqualTo(Ext4Errno.None));
        Assert.That(m, Is.EqualTo(new Ext4Mapping(Ext4MappingKind.Inline, 0, bs, -1)));
        Assert.That(v.MapFileRange(ino, bs + 5, bs, out Ext4Mapping past), Is.EqualTo(Ext4Errno.None));
        Assert.That(past, Is.EqualTo(new Ext4Mapping(Ext4MappingKind.Hole, bs, 2L * bs, -1)));
    }

    [Test]
    public void BadRequestsAreTypedErrors()
    {
        using var img = IomapImage.BuildSparse(4096, extents: true);
        uint ino = img.Ino("/s");
        using var opened = img.Image.Open();
        var v = opened.Volume;
        Assert.That(v.MapFileRange(ino, -1, 10, out _), Is.EqualTo(Ext4Errno.EINVAL));
        Assert.That(v.MapFileRange(ino, 0, 0, out _), Is.EqualTo(Ext4Errno.EINVAL));
        Assert.That(v.MapFileRange(ino, long.MaxValue - 5, 10, out _), Is.EqualTo(Ext4Errno.EINVAL));
        Assert.That(v.MapFileRange(ino, (1L << 32) * 4096, 4096, out _), Is.EqualTo(Ext4Errno.EFBIG), "past the largest logical block");
        Assert.That(v.MapFileRange(2, 0, 4096, out _), Is.EqualTo(Ext4Errno.EISDIR), "the root directory");
        Assert.That(v.MapFileRangeForWrite(ino, 0, 4096, zero: false, out _), Is.EqualTo(Ext4Errno.EROFS), "read-only open");
    }
}
