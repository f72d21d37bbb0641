using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// ext2/ext3 indirect block maps: writes that need single, double and triple indirect
/// blocks, then truncation and punching through every level; e2fsck and debugfs are the oracles.
/// </summary>
public class BlockMapWriteTests
{
    [TestCase("ext2", "1024")]
    [TestCase("ext3", "1024")]
    [TestCase("ext3", "4096")]
    public void WritesThroughEveryIndirectionLevelAndTruncates(string type, string blockSize)
    {
        using var img = WriteImage.Build("64M", 1, "-t", type, "-b", blockSize);
        uint ino = img.Ino("/f0");
        long bs = long.Parse(blockSize, System.Globalization.CultureInfo.InvariantCulture);
        long p = bs / 4;
        // Logical blocks: direct, single-indirect, double-indirect, triple-indirect (two apart).
        long[] blocks = [0, 11, 12, 12 + p - 1, 12 + p, 12 + p + (p * p) - 1, 12 + p + (p * p), 12 + p + (p * p) + (3 * p * p) + 7];
        var pieces = new Dictionary<long, byte[]>();
        var rng = new Random(11);
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            foreach (long b in blocks)
            {
                var data = new byte[bs + 300]; // runs into the next block
                rng.NextBytes(data);
                Assert.That(v.WriteFile(ino, b * bs, data, out int w), Is.EqualTo(Ext4Errno.None));
                Assert.That(w, Is.EqualTo(data.Length));
                pieces[b * bs] = data;
            }
        }

        img.AssertConsistent();
        long size = (blocks[^1] * bs) + bs + 300;
        CheckPieces(img, pieces, size);

        // Truncate inside the triple-indirect range, then the double, then the single, then to zero.
        long[] sizes = [(blocks[6] * bs) + 10, (blocks[4] * bs) + 5, 12 * bs, 0];
        foreach (long s in sizes)
        {
            using (var opened = img.Open())
            {
                Assert.That(opened.Volume.SetSize(ino, s), Is.EqualTo(Ext4Errno.None));
            }

            img.AssertConsistent();
            var kept = pieces.Where(kv => kv.Key < s).ToDictionary(kv => kv.Key, kv => kv.Value.AsSpan(0, (int)Math.Min(kv.Value.Length, s - kv.Key)).ToArray());
            CheckPieces(img, kept, s);
        }

        using (var opened = img.Open())
        {
            Assert.That(opened.Volume.ReadInode(ino).Blocks512, Is.Zero, "every data and indirect block freed");
        }
    }

    [Test]
    public void LargeSequentialWriteOnExt2()
    {
        using var img = WriteImage.Build("64M", 1, "-t", "ext2", "-b", "1024");
        uint ino = img.Ino("/f0");
        var data = new byte[9 << 20]; // 9216 blocks: through the double-indirect range
        new Random(12).NextBytes(data);
        using (var opened = img.Open())
        {
            for (int off = 0; off < data.Length; off += 1 << 20)
            {
                Assert.That(opened.Volume.WriteFile(ino, off, data.AsSpan(off, 1 << 20), out _), Is.EqualTo(Ext4Errno.None));
            }
        }

        img.AssertConsistent();
        Assert.That(img.Dump("/f0"), Is.EqualTo(data));
    }

    /// <summary>
    /// The blocks the pieces (applied in order, later ones overwriting) cover, read at the
    /// physical blocks debugfs's bmap gives for them; the block after the first piece's is a
    /// hole; i_size from debugfs stat (a sparse file of several GiB is not dumped whole).
    /// </summary>
    private static void CheckPieces(WriteImage img, Dictionary<long, byte[]> pieces, long size)
    {
        Assert.That(Tool.Debugfs(img.Path, "stat /f0"), Does.Contain($"Size: {size}\n"));
        int bs = img.Image.ReadImage(1024 + 24, 4)[0] switch { 0 => 1024, 1 => 2048, _ => 4096 };
        var blocks = new SortedDictionary<long, byte[]>();
        foreach (var (off, data) in pieces)
        {
            for (long pos = off; pos < off + data.Length; pos++)
            {
                long lblk = pos / bs;
                if (!blocks.TryGetValue(lblk, out var b))
                {
                    blocks[lblk] = b = new byte[bs];
                }

                b[pos % bs] = data[pos - off];
            }
        }

        foreach (var (lblk, expected) in blocks)
        {
            long phys = Locate.Block(img.Path, "/f0", (uint)lblk);
            Assert.That(phys, Is.Not.Zero, $"logical block {lblk} is mapped");
            Assert.That(img.Image.ReadImage(phys * bs, bs), Is.EqualTo(expected), $"logical block {lblk}");
        }

        if (blocks.Count > 0)
        {
            long gap = blocks.Keys.First() + 2;
            if (!blocks.ContainsKey(gap) && gap * bs < size)
            {
                Assert.That(Locate.Block(img.Path, "/f0", (uint)gap), Is.Zero, "a block between pieces is a hole");
            }
        }
    }
}
