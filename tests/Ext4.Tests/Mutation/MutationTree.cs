using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Mutation;

/// <summary>
/// The generated tree every base image holds (seeded, so every run builds the same images):
/// small and multi-block files, a sparse file with many extents (an extent index below the
/// root; single and double indirect blocks on ext2), a 400-entry directory (htree after
/// e2fsck -D), nested directories, short and long symlinks, xattrs in the inode and in a
/// block, a POSIX ACL, a hard link, a FIFO and a device node, and files small enough to be inline.
/// </summary>
internal static class MutationTree
{
    public static void Populate(string src, int blockSize)
    {
        var rng = new Random(20261121);
        for (int i = 0; i < 16; i++)
        {
            var data = new byte[rng.Next(0, 3 * blockSize)];
            rng.NextBytes(data);
            File.WriteAllBytes(Path.Combine(src, $"file{i}"), data);
        }

        File.WriteAllText(Path.Combine(src, "inline-small"), "fits in i_block");
        File.WriteAllText(Path.Combine(src, "inline-spill"), new string('s', 100));
        Directory.CreateDirectory(Path.Combine(src, "big"));
        for (int i = 0; i < 400; i++)
        {
            File.WriteAllText(Path.Combine(src, "big", $"entry-{i}-{new string('q', i % 40)}"), i % 50 == 0 ? "some" : "");
        }

        Directory.CreateDirectory(Path.Combine(src, "a/b/c"));
        Directory.CreateDirectory(Path.Combine(src, "tiny"));
        File.WriteAllText(Path.Combine(src, "tiny/x"), "x");
        File.CreateSymbolicLink(Path.Combine(src, "a/short"), "target");
        File.CreateSymbolicLink(Path.Combine(src, "a/long"), new string('t', 200));
        using (var fs = new FileStream(Path.Combine(src, "a/b/many"), FileMode.CreateNew))
        {
            // 400 one-block extents: two leaf blocks under the root with 4 KiB blocks, an index
            // block between root and leaves (depth 2) with 1 KiB blocks, double-indirect on ext2.
            for (int i = 0; i < 400; i++)
            {
                fs.Position = (long)i * 2 * blockSize;
                fs.WriteByte((byte)(i + 1));
            }

            // Far enough for a double-indirect block with 1 KiB blocks.
            fs.Position = 5L << 20;
            fs.WriteByte(0x55);
        }

        File.WriteAllText(Path.Combine(src, "a/b/c/deep"), "deep file");
        File.WriteAllText(Path.Combine(src, "a/xattrs"), "x");
        Tool.Check("setfattr", "-n", "user.one", "-v", "1", Path.Combine(src, "a/xattrs"));
        Tool.Check("setfattr", "-n", "user.big", "-v", new string('b', 300), Path.Combine(src, "a/xattrs"));
        Tool.Check("setfacl", "-m", "u:1:r,u:2:w,g:3:x", Path.Combine(src, "a/xattrs"));
        File.WriteAllText(Path.Combine(src, "a/small-xattr"), "y");
        Tool.Check("setfattr", "-n", "user.s", "-v", "v", Path.Combine(src, "a/small-xattr"));
        Tool.Check("ln", Path.Combine(src, "file1"), Path.Combine(src, "a/hardlink"));
        Tool.Check("mkfifo", Path.Combine(src, "fifo"));
        Tool.Check("mknod", Path.Combine(src, "chr"), "c", "1", "3");
    }
}
