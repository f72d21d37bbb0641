using Safemount.Ext4.Format;
using Safemount.Ext4.Tests.Support;
using static Safemount.Ext4.Tests.Write.DirsVolumeTests;

namespace Safemount.Ext4.Tests.Write;

/// <summary>rename and renameat2 (NOREPLACE, EXCHANGE) through the engine; e2fsck -fn and the kernel's view of the tree afterwards.</summary>
public class DirsRenameTests
{
    [TestCaseSource(typeof(DirsVolumeTests), nameof(DirsVolumeTests.Layouts))]
    public void RenamesOfEveryKind(string layout, string[] mkfs)
    {
        if (!DirsKernel.IsRoot)
        {
            Assert.Ignore("needs root to mount");
        }

        using var image = Build(mkfs);
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            const uint root = InodeLayout.EXT4_ROOT_INO;
            Assert.That(v.Mkdir(root, "a"u8, 0x1ED, 0, 0, out var a), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Mkdir(root, "b"u8, 0x1ED, 0, 0, out var b), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Mkdir(a!.Number, "moved"u8, 0x1ED, 0, 0, out var moved), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Create(moved!.Number, "inside"u8, 0x1A4, 0, 0, out _), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Create(a.Number, "f1"u8, 0x1A4, 0, 0, out var f1), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Create(b!.Number, "f2"u8, 0x1A4, 0, 0, out var f2), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Link(f2!.Number, b.Number, "f2-link"u8, out _), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Mkdir(b.Number, "emptydir"u8, 0x1ED, 0, 0, out _), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Mkdir(root, "x"u8, 0x1ED, 0, 0, out var x), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Create(root, "y"u8, 0x1A4, 0, 0, out var y), Is.EqualTo(Ext4Errno.None));

            // Refusals first: nothing may change.
            Assert.That(v.Rename(root, "a"u8, a.Number, "self"u8, RenameFlags.None), Is.EqualTo(Ext4Errno.EINVAL), "into itself");
            Assert.That(v.Rename(root, "a"u8, moved.Number, "deeper"u8, RenameFlags.None), Is.EqualTo(Ext4Errno.EINVAL), "into its own subtree");
            Assert.That(v.Rename(a.Number, "nothing"u8, b.Number, "z"u8, RenameFlags.None), Is.EqualTo(Ext4Errno.ENOENT));
            Assert.That(v.Rename(a.Number, "f1"u8, b.Number, "f2"u8, RenameFlags.NoReplace), Is.EqualTo(Ext4Errno.EEXIST));
            Assert.That(v.Rename(a.Number, "f1"u8, b.Number, "emptydir"u8, RenameFlags.None), Is.EqualTo(Ext4Errno.EISDIR));
            Assert.That(v.Rename(a.Number, "moved"u8, b.Number, "f2"u8, RenameFlags.None), Is.EqualTo(Ext4Errno.ENOTDIR));
            Assert.That(v.Rename(root, "b"u8, a.Number, "moved"u8, RenameFlags.None), Is.EqualTo(Ext4Errno.ENOTEMPTY));
            Assert.That(v.Rename(moved.Number, "inside"u8, a.Number, "moved"u8, RenameFlags.None), Is.EqualTo(Ext4Errno.ENOTEMPTY), "over its own parent");
            Assert.That(v.Rename(moved.Number, "inside"u8, root, "a"u8, RenameFlags.None), Is.EqualTo(Ext4Errno.ENOTEMPTY), "over an ancestor");
            Assert.That(v.Rename(moved.Number, "inside"u8, root, "a"u8, RenameFlags.Exchange), Is.EqualTo(Ext4Errno.EINVAL), "exchange with an ancestor");
            Assert.That(v.Rename(a.Number, "f1"u8, b.Number, "zz"u8, RenameFlags.Exchange), Is.EqualTo(Ext4Errno.ENOENT));
            Assert.That(v.Rename(a.Number, "f1"u8, b.Number, "zz"u8, RenameFlags.Exchange | RenameFlags.NoReplace), Is.EqualTo(Ext4Errno.EINVAL));
            Assert.That(v.Rename(b.Number, "f2"u8, b.Number, "f2-link"u8, RenameFlags.None), Is.EqualTo(Ext4Errno.None), "two names of one inode: nothing happens");
            Assert.That(v.Lookup(v.ReadInode(b.Number), "f2"u8), Is.EqualTo(f2.Number));

            // Same directory; across directories; over an existing file (its inode freed); a
            // directory across parents (".." and both link counts); a directory over an empty one.
            Assert.That(v.Rename(a.Number, "f1"u8, a.Number, "f1-renamed"u8, RenameFlags.None), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Rename(a.Number, "f1-renamed"u8, b.Number, "f1-in-b"u8, RenameFlags.NoReplace), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Rename(root, "y"u8, b.Number, "f1-in-b"u8, RenameFlags.None), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.ReadInode(f1!.Number).LinksCount, Is.Zero, "the replaced inode is freed");
            Assert.That(v.Rename(a.Number, "moved"u8, b.Number, "moved-to-b"u8, RenameFlags.None), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Lookup(v.ReadInode(moved.Number), ".."u8), Is.EqualTo(b.Number));
            Assert.That((v.ReadInode(a.Number).LinksCount, v.ReadInode(b.Number).LinksCount), Is.EqualTo(((ushort)2, (ushort)4)));
            Assert.That(v.Rename(root, "x"u8, b.Number, "emptydir"u8, RenameFlags.None), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Lookup(v.ReadInode(x!.Number), ".."u8), Is.EqualTo(b.Number));

            // Exchange: a file with a directory across parents, then two files in one directory.
            Assert.That(v.Create(a.Number, "fa"u8, 0x180, 0, 0, out _), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Rename(a.Number, "fa"u8, b.Number, "moved-to-b"u8, RenameFlags.Exchange), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Lookup(v.ReadInode(moved.Number), ".."u8), Is.EqualTo(a.Number));
            Assert.That(v.Rename(b.Number, "f2"u8, b.Number, "f1-in-b"u8, RenameFlags.Exchange), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Lookup(v.ReadInode(b.Number), "f1-in-b"u8), Is.EqualTo(f2.Number));
            Assert.That(v.Lookup(v.ReadInode(b.Number), "f2"u8), Is.EqualTo(y!.Number));
        }

        AssertClean(image);
        var tree = KernelTree(image).Select(l => l[..l.LastIndexOf('|')]).Select(l => l[..(l.LastIndexOf(' '))]).ToList();
        Assert.That(tree, Is.EqualTo(new[]
        {
            "a|d 3 755",
            "a/fa|d 2 755",
            "a/fa/inside|f 1 644",
            "b|d 3 755",
            "b/emptydir|d 2 755",
            "b/f1-in-b|f 2 644",
            "b/f2|f 1 644",
            "b/f2-link|f 2 644",
            "b/moved-to-b|f 1 600",
            "existing|d 2 755",
            "existing/old|f 1 644",
        }.Order(StringComparer.Ordinal)));
        _ = layout;
    }

    /// <summary>RENAME_WHITEOUT: the source name names a new character device 0:0 with mode 0 owned by the caller; EINVAL with EXCHANGE.</summary>
    [TestCaseSource(typeof(DirsVolumeTests), nameof(DirsVolumeTests.Layouts))]
    public void RenameWhiteoutLeavesAWhiteout(string layout, string[] mkfs)
    {
        if (!DirsKernel.IsRoot)
        {
            Assert.Ignore("needs root to mount");
        }

        using var image = Build(mkfs);
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            const uint root = InodeLayout.EXT4_ROOT_INO;
            Assert.That(v.Mkdir(root, "a"u8, 0x1ED, 0, 0, out var a), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Mkdir(root, "b"u8, 0x1ED, 0, 0, out var b), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Create(a!.Number, "f"u8, 0x1A4, 0, 0, out var f), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Mkdir(a.Number, "d"u8, 0x1ED, 0, 0, out var d), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Create(b!.Number, "victim"u8, 0x1A4, 0, 0, out var victim), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Rename(a.Number, "f"u8, b.Number, "f"u8, RenameFlags.Whiteout | RenameFlags.Exchange), Is.EqualTo(Ext4Errno.EINVAL));
            Assert.That(v.Rename(a.Number, "f"u8, b.Number, "victim"u8, RenameFlags.Whiteout, 1000, 1001), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.ReadInode(victim!.Number).LinksCount, Is.Zero, "the replaced inode is freed");
            Assert.That(v.Rename(a.Number, "d"u8, b.Number, "d"u8, RenameFlags.Whiteout | RenameFlags.NoReplace), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Lookup(v.ReadInode(d!.Number), ".."u8), Is.EqualTo(b.Number));
            Assert.That((v.ReadInode(a.Number).LinksCount, v.ReadInode(b.Number).LinksCount), Is.EqualTo(((ushort)2, (ushort)3)));
            var white = v.ReadInode(v.Lookup(v.ReadInode(a.Number), "f"u8));
            Assert.That((white.Mode, white.RdevMajor, white.RdevMinor, white.Uid, white.Gid, white.LinksCount),
                Is.EqualTo(((ushort)0x2000, 0u, 0u, 1000u, 1001u, (ushort)1)));
            Assert.That(v.Lookup(v.ReadInode(b.Number), "victim"u8), Is.EqualTo(f!.Number));
        }

        AssertClean(image);
        var tree = KernelTree(image).Where(l => l.StartsWith('a') || l.StartsWith('b')).Select(l => l[..l.LastIndexOf('|')]).Select(l => l[..l.LastIndexOf(' ')]).ToList();
        Assert.That(tree, Is.EqualTo(new[]
        {
            "a/d|c 1 0",
            "a/f|c 1 0",
            "a|d 2 755",
            "b/d|d 2 755",
            "b/victim|f 1 644",
            "b|d 3 755",
        }));
        _ = layout;
    }
}
