using Safemount.Ext4.Tests.Support;
using Extent = Safemount.Ext4.ExtentTree.Extent;

namespace Safemount.Ext4.Tests.Write;

/// <summary>ExtentTree.LoadAll over trees mkfs.ext4 built, with the read path's Map and debugfs as oracles.</summary>
public class ExtentLoadTests
{
    [TestCase(4096, 3)]
    [TestCase(4096, 1500)]
    [TestCase(1024, 3000)]
    public void LoadAllAgreesWithMapAndDebugfs(int blockSize, int dataBlocks)
    {
        using var img = TestImage.Build(src =>
        {
            // Every other block written: one extent per data block.
            using var f = new FileStream(Path.Combine(src, "f"), FileMode.CreateNew);
            var block = new byte[blockSize];
            Array.Fill(block, (byte)0x5A);
            for (int i = 0; i < dataBlocks; i++)
            {
                f.Position = 2L * i * blockSize;
                f.Write(block);
            }
        }, "64M", "-b", blockSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var opened = img.Open();
        var v = opened.Volume;
        uint ino = v.Lookup(v.ReadInode(2), "f"u8);
        var inode = v.ReadInode(ino);
        var leaves = new List<ulong>();
        var indexes = new List<ulong>();
        var extents = ExtentTree.LoadAll(v, ino, inode.ChecksumSeed, inode.IBlock, leaves, indexes);

        Assert.That(extents, Has.Count.EqualTo(dataBlocks));
        var fromMap = new List<Extent>();
        ulong blocks = (ulong)((inode.Size + blockSize - 1) / blockSize);
        for (uint l = 0; l < blocks;)
        {
            var run = v.FileData.Map(inode, l, (uint)(blocks - l));
            if (run.Kind != BlockRunKind.Hole)
            {
                fromMap.Add(new Extent(l, run.Length, run.Physical, run.Kind == BlockRunKind.Unwritten));
            }

            l += run.Length;
        }

        Assert.That(extents, Is.EqualTo(fromMap));
        var etb = Locate.ExtentTreeBlocks(img.ImagePath, "/f");
        Assert.That(leaves.Concat(indexes).Select(b => (long)b).Order(), Is.EqualTo(etb.Order()));
    }
}
