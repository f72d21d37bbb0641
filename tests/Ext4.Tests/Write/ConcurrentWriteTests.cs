namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// Writers on different inodes in parallel (inode locks, handles, group locks and block
/// stripes together), and the directory-block primitive; e2fsck and debugfs are the oracles.
/// </summary>
public class ConcurrentWriteTests
{
    [Test]
    public void ParallelWritersOnDifferentFiles()
    {
        const int Files = 6;
        using var img = WriteImage.Build("128M", Files, "-O", "metadata_csum,64bit");
        var inos = Enumerable.Range(0, Files).Select(i => img.Ino($"/f{i}")).ToArray();
        var models = new byte[Files][];
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            Parallel.For(0, Files, new ParallelOptions { MaxDegreeOfParallelism = Files }, i =>
            {
                var rng = new Random(100 + i);
                var model = new byte[3 << 20];
                long size = 0;
                for (int k = 0; k < 150; k++)
                {
                    int len = rng.Next(1, 50000);
                    long off = rng.Next(0, model.Length - len);
                    var chunk = new byte[len];
                    rng.NextBytes(chunk);
                    Assert.That(v.WriteFile(inos[i], off, chunk, out int w), Is.EqualTo(Ext4Errno.None));
                    Assert.That(w, Is.EqualTo(len));
                    chunk.CopyTo(model.AsSpan((int)off));
                    size = Math.Max(size, off + len);
                    if (k % 50 == 49)
                    {
                        long cut = rng.Next(0, (int)size);
                        Assert.That(v.SetSize(inos[i], cut), Is.EqualTo(Ext4Errno.None));
                        model.AsSpan((int)cut).Clear();
                        size = cut;
                    }
                }

                models[i] = model.AsSpan(0, (int)size).ToArray();
            });
        }

        img.AssertConsistent();
        for (int i = 0; i < Files; i++)
        {
            Assert.That(img.Dump($"/f{i}"), Is.EqualTo(models[i]), $"/f{i}");
        }
    }

    [TestCase("-O", "metadata_csum")]
    [TestCase("-t", "ext2", "-b", "1024")]
    public void MapOrAllocateBlockGivesADirectoryStyleBlock(params string[] mkfs)
    {
        using var img = WriteImage.Build("32M", 1, mkfs);
        uint ino = img.Ino("/f0");
        ulong first;
        int bs;
        using (var opened = img.Open())
        {
            var v = opened.Volume;
            bs = (int)v.BlockSize;
            using var held = v.InodeLocks.Acquire(ino, exclusive: true);
            using var tx = v.Begin();
            var r = InodeRecord.From(v, v.ReadInode(ino));
            for (uint lblk = 0; lblk < 20; lblk++)
            {
                Assert.That(v.FileData.MapOrAllocateBlock(tx, r, lblk, Allocation.AllocationRights.User, out ulong phys, out bool isNew), Is.EqualTo(Ext4Errno.None));
                Assert.That(isNew, Is.True);
                byte fill = (byte)(lblk + 1);
                tx.Create(phys, "test block", span => span.Fill(fill));
            }

            Assert.That(v.FileData.MapOrAllocateBlock(tx, r, 3, Allocation.AllocationRights.User, out first, out bool again), Is.EqualTo(Ext4Errno.None));
            Assert.That(again, Is.False, "an existing block is returned, not reallocated");
            r.Size = 20L * bs;
            v.WriteInode(tx, r);
        }

        img.AssertConsistent();
        var content = img.Dump("/f0");
        for (int lblk = 0; lblk < 20; lblk++)
        {
            Assert.That(content.AsSpan(lblk * bs, bs).ToArray().All(b => b == lblk + 1), Is.True, $"block {lblk}");
        }

        Assert.That(img.Image.ReadImage((long)first * bs, 1)[0], Is.EqualTo(4));
    }
}
