namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// fsx-style: seeded random sequences of write, truncate, punch, zero range and
/// preallocation on one file against an in-memory model; our reader is compared with the model
/// after every operation, and after the session e2fsck must be clean and debugfs must read the
/// model's bytes.
/// </summary>
public class RandomOperationTests
{
    private const int KeepSize = 0x01;
    private const int PunchHole = 0x02;
    private const int ZeroRange = 0x10;

    [TestCase(1, "-b", "4096", "-O", "metadata_csum,64bit")]
    [TestCase(2, "-b", "1024", "-O", "metadata_csum")]
    [TestCase(3, "-b", "1024", "-O", "^metadata_csum,^flex_bg")]
    [TestCase(4, "-t", "ext3", "-b", "1024")]
    [TestCase(5, "-t", "ext2", "-b", "4096")]
    public void RandomOperationsMatchTheModel(int seed, params string[] mkfs)
    {
        using var img = WriteImage.Build("64M", 1, mkfs);
        uint ino = img.Ino("/f0");
        bool extents = !mkfs.Contains("-t");
        const int Limit = 3 << 20;
        var model = new byte[Limit + (1 << 20)];
        long size = 0;
        var rng = new Random(seed);
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            for (int step = 0; step < 400; step++)
            {
                long off = rng.Next(0, Limit);
                int len = rng.Next(1, rng.Next(2) == 0 ? 5000 : 200_000);
                int op = rng.Next(extents ? 6 : 4);
                string what;
                switch (op)
                {
                    case 0:
                    case 1:
                        var data = new byte[len];
                        rng.NextBytes(data);
                        Assert.That(v.WriteFile(ino, off, data, out int w), Is.EqualTo(Ext4Errno.None));
                        Assert.That(w, Is.EqualTo(len));
                        data.CopyTo(model, off);
                        size = Math.Max(size, off + len);
                        what = $"write {off}+{len}";
                        break;
                    case 2:
                        long newSize = rng.Next(0, Limit);
                        Assert.That(v.SetSize(ino, newSize), Is.EqualTo(Ext4Errno.None));
                        if (newSize < size)
                        {
                            model.AsSpan((int)newSize).Clear();
                        }

                        size = newSize;
                        what = $"truncate {newSize}";
                        break;
                    case 3:
                        Assert.That(v.Fallocate(ino, PunchHole | KeepSize, off, len), Is.EqualTo(Ext4Errno.None));
                        if (off < size)
                        {
                            model.AsSpan((int)off, (int)Math.Min(len, size - off)).Clear();
                        }

                        what = $"punch {off}+{len}";
                        break;
                    case 4:
                        int mode = ZeroRange | (rng.Next(2) == 0 ? KeepSize : 0);
                        Assert.That(v.Fallocate(ino, mode, off, len), Is.EqualTo(Ext4Errno.None));
                        model.AsSpan((int)off, len).Clear();
                        if ((mode & KeepSize) == 0)
                        {
                            size = Math.Max(size, off + len);
                        }

                        what = $"zero range {off}+{len} mode {mode}";
                        break;
                    default:
                        int pmode = rng.Next(2) == 0 ? KeepSize : 0;
                        Assert.That(v.Fallocate(ino, pmode, off, len), Is.EqualTo(Ext4Errno.None));
                        if (pmode == 0)
                        {
                            size = Math.Max(size, off + len);
                        }

                        what = $"fallocate {off}+{len} mode {pmode}";
                        break;
                }

                var inode = v.ReadInode(ino);
                Assert.That(inode.Size, Is.EqualTo(size), $"step {step}: {what}");
                var back = new byte[size];
                Assert.That(v.Read(inode, 0, back), Is.EqualTo((int)size));
                Assert.That(back.AsSpan().SequenceEqual(model.AsSpan(0, (int)size)), Is.True, $"step {step}: {what}");
            }
        }

        img.AssertConsistent();
        Assert.That(img.Dump("/f0"), Is.EqualTo(model.AsSpan(0, (int)size).ToArray()));
    }
}
