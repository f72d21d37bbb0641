namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// Ext4Volume.WriteFile / SetSize on real images: after each scenario the image is unmounted,
/// e2fsck -fn must be clean, the group and superblock free counts must agree, and debugfs
/// (e2fsprogs' own reader) must read back exactly the bytes of an in-memory model.
/// </summary>
public class WriteFileTests
{
    internal static readonly object[] Layouts =
    [
        new object[] { "4k-csum", new[] { "-b", "4096", "-O", "metadata_csum,64bit" } },
        new object[] { "1k-nocsum", new[] { "-b", "1024", "-O", "^metadata_csum,^64bit" } },
        new object[] { "4k-noflex", new[] { "-b", "4096", "-O", "^flex_bg,metadata_csum" } },
        new object[] { "ext3", new[] { "-t", "ext3", "-b", "1024" } },
        new object[] { "ext2", new[] { "-t", "ext2" } },
    ];

    [TestCaseSource(nameof(Layouts))]
    public void ManySmallAppendsStayContiguous(string name, string[] mkfs)
    {
        using var img = WriteImage.Build("64M", 1, mkfs);
        uint ino = img.Ino("/f0");
        var model = new List<byte>();
        var rng = new Random(1);
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            for (int i = 0; i < 400; i++)
            {
                var chunk = new byte[rng.Next(1, 3000)];
                rng.NextBytes(chunk);
                Assert.That(v.WriteFile(ino, model.Count, chunk, out int written), Is.EqualTo(Ext4Errno.None));
                Assert.That(written, Is.EqualTo(chunk.Length));
                model.AddRange(chunk);
            }

            var buf = new byte[model.Count];
            Assert.That(v.Read(v.ReadInode(ino), 0, buf), Is.EqualTo(model.Count));
            Assert.That(buf, Is.EqualTo(model.ToArray()), "our own reader");
        }

        img.AssertConsistent();
        Assert.That(img.Dump("/f0"), Is.EqualTo(model.ToArray()), name);
        if (!name.StartsWith("ext", StringComparison.Ordinal))
        {
            Assert.That(img.Extents("/f0"), Has.Count.LessThanOrEqualTo(3), "appends extend one run");
        }
    }

    [TestCaseSource(nameof(Layouts))]
    public void OneLargeWriteIsFewExtents(string name, string[] mkfs)
    {
        using var img = WriteImage.Build("128M", 1, mkfs);
        uint ino = img.Ino("/f0");
        var data = new byte[40 << 20];
        new Random(2).NextBytes(data);
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            for (int off = 0; off < data.Length; off += 1 << 20)
            {
                Assert.That(v.WriteFile(ino, off, data.AsSpan(off, 1 << 20), out int w), Is.EqualTo(Ext4Errno.None));
                Assert.That(w, Is.EqualTo(1 << 20));
            }

            Assert.That(v.ReadInode(ino).Blocks512, Is.GreaterThanOrEqualTo((ulong)(data.Length / 512)));
        }

        img.AssertConsistent();
        Assert.That(img.Dump("/f0"), Is.EqualTo(data), name);
        if (!name.StartsWith("ext", StringComparison.Ordinal))
        {
            // 40 MiB crosses block groups (and their metadata) a few times, no more.
            Assert.That(img.Extents("/f0"), Has.Count.LessThanOrEqualTo(12));
        }
    }

    [TestCaseSource(nameof(Layouts))]
    public void RandomOffsetWritesMatchAModel(string name, string[] mkfs)
    {
        using var img = WriteImage.Build("64M", 2, mkfs);
        uint ino = img.Ino("/f1");
        var model = new byte[6 << 20];
        long size = 0;
        var rng = new Random(3);
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            for (int i = 0; i < 300; i++)
            {
                int len = rng.Next(1, 40000);
                long off = rng.Next(0, model.Length - len);
                var chunk = new byte[len];
                rng.NextBytes(chunk);
                Assert.That(v.WriteFile(ino, off, chunk, out int w), Is.EqualTo(Ext4Errno.None));
                Assert.That(w, Is.EqualTo(len));
                chunk.CopyTo(model.AsSpan((int)off));
                size = Math.Max(size, off + len);
            }

            Assert.That(v.ReadInode(ino).Size, Is.EqualTo(size));
        }

        img.AssertConsistent();
        Assert.That(img.Dump("/f1"), Is.EqualTo(model.AsSpan(0, (int)size).ToArray()), name);
    }

    [TestCaseSource(nameof(Layouts))]
    public void SparseWritesGrowTheTreeAndTruncationShrinksIt(string name, string[] mkfs)
    {
        using var img = WriteImage.Build("64M", 1, mkfs);
        uint ino = img.Ino("/f0");
        int bs;
        const int Pieces = 1200;
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            bs = (int)v.BlockSize;
            // One block every other block: one extent each; with 1 KiB blocks 84 per leaf -> depth 2.
            for (int i = 0; i < Pieces; i++)
            {
                var block = new byte[bs];
                Array.Fill(block, (byte)(i % 251 + 1));
                Assert.That(v.WriteFile(ino, 2L * i * bs, block, out _), Is.EqualTo(Ext4Errno.None));
            }
        }

        img.AssertConsistent();
        var expected = new byte[((2 * Pieces) - 1) * bs];
        for (int i = 0; i < Pieces; i++)
        {
            expected.AsSpan(2 * i * bs, bs).Fill((byte)(i % 251 + 1));
        }

        Assert.That(img.Dump("/f0"), Is.EqualTo(expected));
        bool extents = !name.StartsWith("ext", StringComparison.Ordinal);
        if (extents)
        {
            Assert.That(img.Extents("/f0"), Has.Count.EqualTo(Pieces));
            Assert.That(img.ExtentDepth("/f0"), Is.EqualTo(bs == 1024 ? 2 : 1));
        }

        // Truncate to the middle of a data block, then to the middle of a hole, then to zero.
        long[] sizes = [(2L * 700 * bs) + 100, (2L * 300 * bs) + bs + 10, 0];
        foreach (long size in sizes)
        {
            using (var opened = img.Open())
            {
                Assert.That(opened.Volume.SetSize(ino, size), Is.EqualTo(Ext4Errno.None));
            }

            img.AssertConsistent();
            Assert.That(img.Dump("/f0"), Is.EqualTo(expected.AsSpan(0, (int)size).ToArray()), $"size {size}");
        }

        if (extents)
        {
            Assert.That(img.ExtentDepth("/f0"), Is.EqualTo(0), "an empty tree is back in i_block");
        }

        using (var opened = img.Open())
        {
            Assert.That(opened.Volume.ReadInode(ino).Blocks512, Is.Zero);
        }
    }

    [TestCaseSource(nameof(Layouts))]
    public void TruncateZeroesTheTailAndGrowingShowsZeros(string name, string[] mkfs)
    {
        using var img = WriteImage.Build("32M", 1, mkfs);
        uint ino = img.Ino("/f0");
        var data = new byte[50000];
        new Random(5).NextBytes(data);
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            Assert.That(v.WriteFile(ino, 0, data, out _), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.SetSize(ino, 10001), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.SetSize(ino, 30000), Is.EqualTo(Ext4Errno.None));
            // A write past EOF after a hole.
            Assert.That(v.WriteFile(ino, 90000, data.AsSpan(0, 10), out _), Is.EqualTo(Ext4Errno.None));
        }

        var expected = new byte[90010];
        data.AsSpan(0, 10001).CopyTo(expected);
        data.AsSpan(0, 10).CopyTo(expected.AsSpan(90000));
        img.AssertConsistent();
        Assert.That(img.Dump("/f0"), Is.EqualTo(expected), name);
    }

    [Test]
    public void EfbigAtTheMaximumFileSize()
    {
        using var img = WriteImage.Build("16M", 1, "-b", "1024");
        uint ino = img.Ino("/f0");
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            long max = ((1L << 32) - 1) * 1024;
            Assert.That(v.WriteFile(ino, max, [1], out _), Is.EqualTo(Ext4Errno.EFBIG));
            Assert.That(v.WriteFile(ino, max - 2, [1, 2, 3, 4], out int w), Is.EqualTo(Ext4Errno.None));
            Assert.That(w, Is.EqualTo(2), "a write crossing the limit is cut");
            Assert.That(v.ReadInode(ino).Size, Is.EqualTo(max));
            Assert.That(v.SetSize(ino, max + 1), Is.EqualTo(Ext4Errno.EFBIG));
        }

        img.AssertConsistent();
    }
}
