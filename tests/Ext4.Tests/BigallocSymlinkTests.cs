using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests;

/// <summary>
/// A fast symlink with an xattr block on bigalloc (found by the differential tester, seed 114):
/// the xattr block costs a whole cluster in i_blocks (32 sectors for 16 KiB clusters), and
/// ext4_inode_is_fast_symlink subtracts a cluster, not a block. Counting a block made the engine
/// read the target from "block 0" of a symlink that has none and fail with EUCLEAN.
/// </summary>
public class BigallocSymlinkTests
{
    private const string Target = "target-of-a-fast-symlink";

    [Test]
    public void FastSymlinkWithXattrBlockReadsItsTarget([Values(1024, 4096)] int blockSize)
    {
        if (Tool.Check("id", "-u").Trim() != "0")
        {
            Assert.Ignore("trusted.* xattrs on the source tree need root");
        }

        string bs = blockSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string cluster = (blockSize * 16).ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var image = TestImage.Build(src =>
        {
            File.CreateSymbolicLink(Path.Combine(src, "fast"), Target);
            File.CreateSymbolicLink(Path.Combine(src, "plain"), "short");
            // 600 bytes do not fit in a 256-byte inode: the symlink gets an external xattr block.
            Tool.Check("setfattr", "-h", "-n", "trusted.big", "-v", new string('v', 600), Path.Combine(src, "fast"));
        }, "64M", "-b", bs, "-O", "bigalloc", "-C", cluster);
        Assert.That(Tool.FsckClean(image.ImagePath, out string fsck), Is.True, fsck);
        using var opened = image.Open();
        var v = opened.Volume;

        var fast = PathWalk.Inode(v, "fast");
        Assert.That(fast.FileAcl, Is.Not.Zero, "the symlink must have an xattr block for this test");
        Assert.That(fast.Blocks512, Is.EqualTo((ulong)(blockSize * 16 / 512)), "i_blocks is one cluster");
        Assert.That(v.ReadSymlink(fast), Is.EqualTo(System.Text.Encoding.ASCII.GetBytes(Target)));
        Assert.That(v.ReadSymlink(PathWalk.Inode(v, "plain")), Is.EqualTo("short"u8.ToArray()));
    }
}
