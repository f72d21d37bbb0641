using System.Text;
using Safemount.Ext4.Format;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// Namespace operations through the engine on real mkfs images of several layouts; after each
/// test the image must be e2fsck -fn clean and a read-only kernel mount must list exactly the
/// tree the test built (type, links, mode, size, symlink target, rdev).
/// </summary>
public class DirsVolumeTests
{
    public static readonly object[] Layouts =
    [
        new object[] { "4k-csum", new[] { "-b", "4096", "-O", "metadata_csum,64bit" } },
        new object[] { "1k-nocsum", new[] { "-b", "1024", "-O", "^metadata_csum,^64bit", "-I", "128" } },
        new object[] { "4k-nodirindex", new[] { "-b", "4096", "-O", "^dir_index" } },
        new object[] { "2k-largedir", new[] { "-b", "2048", "-O", "large_dir" } },
        new object[] { "ext2", new[] { "-t", "ext2", "-b", "1024" } },
        new object[] { "ext3", new[] { "-t", "ext3", "-b", "4096" } },
    ];

    internal static TestImage Build(string[] mkfs, string size = "64M", Action<string>? populate = null) =>
        TestImage.Build(src =>
        {
            Directory.CreateDirectory(Path.Combine(src, "existing"));
            File.WriteAllText(Path.Combine(src, "existing", "old"), "old contents");
            populate?.Invoke(src);
        }, size, mkfs);

    internal static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    internal static void AssertClean(TestImage image)
    {
        Assert.That(Tool.FsckClean(image.ImagePath, out string output), Is.True, output);
    }

    /// <summary>The kernel's view: "path|type nlink mode size|symlink target" per path, sorted by bytes.</summary>
    internal static List<string> KernelTree(TestImage image) =>
        DirsKernel.ReadOnly(image.ImagePath, image.Scratch("kmnt"),
            "cd \"$M\" && find . -mindepth 1 ! -path './lost+found*' -printf '%P|%y %n %m %s|%l\\n'")
        .Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToList();

    [TestCaseSource(nameof(Layouts))]
    public void EveryNamespaceOperation(string layout, string[] mkfs)
    {
        if (!DirsKernel.IsRoot)
        {
            Assert.Ignore("needs root to mount");
        }

        using var image = Build(mkfs);
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            uint root = InodeLayout.EXT4_ROOT_INO;
            uint existing = v.Lookup(v.ReadInode(root), "existing"u8);
            Assert.That(v.Mkdir(root, "d"u8, 0x1ED, 1000, 1000, out var d), Is.EqualTo(Ext4Errno.None));
            Assert.That(d!.IsDirectory && d.LinksCount == 2 && d.Uid == 1000, Is.True);
            Assert.That(v.Mkdir(root, "d"u8, 0x1ED, 0, 0, out _), Is.EqualTo(Ext4Errno.EEXIST));
            Assert.That(v.Mkdir(d.Number, "sub"u8, 0x1C0, 0, 0, out var sub), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.ReadInode(d.Number).LinksCount, Is.EqualTo(3));
            Assert.That(v.Create(d.Number, "file"u8, 0x1A4, 0, 0, out var file), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.WriteFile(file!.Number, 0, "hello"u8, out int written), Is.EqualTo(Ext4Errno.None));
            Assert.That(written, Is.EqualTo(5));
            Assert.That(v.Mknod(d.Number, "fifo"u8, (ushort)(InodeLayout.S_IFIFO | 0x1A4), 0, 0, 0, 0, out _), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Mknod(d.Number, "sock"u8, (ushort)(InodeLayout.S_IFSOCK | 0x1ED), 0, 0, 0, 0, out _), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Mknod(d.Number, "chr"u8, (ushort)(InodeLayout.S_IFCHR | 0x1B6), 1, 3, 0, 0, out var chr), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Mknod(d.Number, "blk"u8, (ushort)(InodeLayout.S_IFBLK | 0x1B0), 259, 70000, 0, 0, out var blk), Is.EqualTo(Ext4Errno.None));
            Assert.That((chr!.RdevMajor, chr.RdevMinor, blk!.RdevMajor, blk.RdevMinor), Is.EqualTo((1u, 3u, 259u, 70000u)));
            Assert.That(v.Symlink(d.Number, "fast"u8, "file"u8, 0, 0, out var fast), Is.EqualTo(Ext4Errno.None));
            string slowTarget = string.Join('/', Enumerable.Repeat("a-long-path-component", 12));
            Assert.That(v.Symlink(d.Number, "slow"u8, B(slowTarget), 0, 0, out var slow), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.ReadSymlink(fast!), Is.EqualTo("file"u8.ToArray()));
            Assert.That(Encoding.UTF8.GetString(v.ReadSymlink(slow!)), Is.EqualTo(slowTarget));
            Assert.That(v.Link(file.Number, sub!.Number, "hard"u8, out var hard), Is.EqualTo(Ext4Errno.None));
            Assert.That(hard!.LinksCount, Is.EqualTo(2));
            Assert.That(v.Link(sub.Number, root, "dirlink"u8, out _), Is.EqualTo(Ext4Errno.EPERM));
            Assert.That(v.Unlink(d.Number, "sub"u8), Is.EqualTo(Ext4Errno.EISDIR));
            Assert.That(v.Rmdir(d.Number, "file"u8), Is.EqualTo(Ext4Errno.ENOTDIR));
            Assert.That(v.Rmdir(root, "d"u8), Is.EqualTo(Ext4Errno.ENOTEMPTY));
            Assert.That(v.Unlink(d.Number, "nothing"u8), Is.EqualTo(Ext4Errno.ENOENT));
            Assert.That(v.Create(d.Number, B(new string('n', 256)), 0x1A4, 0, 0, out _), Is.EqualTo(Ext4Errno.ENAMETOOLONG));
            Assert.That(v.Create(d.Number, B(new string('n', 255)), 0x1A4, 0, 0, out _), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Create(d.Number, "a/b"u8, 0x1A4, 0, 0, out _), Is.EqualTo(Ext4Errno.EINVAL));
            Assert.That(v.Create(file.Number, "x"u8, 0x1A4, 0, 0, out _), Is.EqualTo(Ext4Errno.ENOTDIR));

            // Unlink of one of two links keeps the inode; then the removals that free inodes.
            Assert.That(v.Unlink(d.Number, "file"u8), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.ReadInode(file.Number).LinksCount, Is.EqualTo(1));
            Assert.That(v.Mkdir(root, "gone"u8, 0x1ED, 0, 0, out _), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Create(existing, "tmp"u8, 0x1A4, 0, 0, out var tmp), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.WriteFile(tmp!.Number, 0, new byte[100_000], out _), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Unlink(existing, "tmp"u8), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Unlink(existing, "old"u8), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Rmdir(root, "existing"u8), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Rmdir(root, "gone"u8), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.Lookup(v.ReadInode(root), "existing"u8), Is.Zero);
            Assert.That(v.ReadInode(root).LinksCount, Is.EqualTo(4), "root: ., .., lost+found/.., d/..");
        }

        AssertClean(image);
        string longName = new('n', 255);
        string slowT = string.Join('/', Enumerable.Repeat("a-long-path-component", 12));
        string bs = mkfs.Contains("1024") ? "1024" : mkfs.Contains("2048") ? "2048" : "4096";
        Assert.That(KernelTree(image), Is.EqualTo(new[]
        {
            $"d|d 3 755 {bs}|",
            "d/blk|b 1 660 0|",
            "d/chr|c 1 666 0|",
            "d/fast|l 1 777 4|file",
            "d/fifo|p 1 644 0|",
            $"d/{longName}|f 1 644 0|",
            $"d/slow|l 1 777 {slowT.Length}|{slowT}",
            "d/sock|s 1 755 0|",
            $"d/sub|d 2 700 {bs}|",
            "d/sub/hard|f 1 644 5|",
        }.Order(StringComparer.Ordinal)));
        string rdev = DirsKernel.ReadOnly(image.ImagePath, image.Scratch("kmnt"), "stat -c '%t:%T' \"$M/d/chr\" \"$M/d/blk\"");
        Assert.That(rdev.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "1:3", "103:11170" }));
        _ = layout;
    }
}
