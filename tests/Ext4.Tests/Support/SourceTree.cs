using System.Text;

namespace Safemount.Ext4.Tests.Support;

/// <summary>
/// Populates a source directory for <c>mkfs.ext4 -d</c> with every kind of object the reader
/// must handle. Contents are deterministic (seeded).
/// </summary>
internal static class SourceTree
{
    public const string SparseName = "sparse5g";
    public const long SparseSize = 5L << 30;
    public const long SparseMidOffset = (4L << 30) + 12345;   // past 4 GiB: needs i_size_high and 64-bit offsets
    public static readonly byte[] SparseMid = "MIDDLE"u8.ToArray();
    public static readonly byte[] SparseEnd = "END"u8.ToArray();
    public const string ManyExtentsName = "many-extents";
    public const int ManyExtentsRuns = 1500;                  // one block of data every other block

    public static readonly string LongName = new('n', 255);
    public static readonly string Symlink10Target = "0123456789";
    public static readonly string Symlink300Target = string.Concat(Enumerable.Repeat("dir/", 75));

    /// <summary>Every regular file's expected size by relative path (the sparse file excepted).</summary>
    public static void Populate(string root, int blockSize)
    {
        var rng = new Random(4242);
        void WriteRandom(string rel, int size)
        {
            var data = new byte[size];
            rng.NextBytes(data);
            File.WriteAllBytes(Path.Combine(root, rel), data);
        }

        WriteRandom("empty", 0);
        WriteRandom("one", 1);
        WriteRandom("f4095", 4095);
        WriteRandom("f4096", 4096);
        WriteRandom("f1m1", (1 << 20) + 1);
        WriteRandom(LongName, 77);
        Directory.CreateDirectory(Path.Combine(root, "sub/deeper/deepest"));
        WriteRandom("sub/deeper/deepest/leaf", 5000);
        WriteRandom("sub/hard1", 300);
        File.CreateSymbolicLink(Path.Combine(root, "sym10"), Symlink10Target);
        File.CreateSymbolicLink(Path.Combine(root, "sym300"), Symlink300Target);
        File.CreateSymbolicLink(Path.Combine(root, "sub/dangling"), "../nowhere");
        Tool.Check("ln", Path.Combine(root, "sub/hard1"), Path.Combine(root, "hard2"));
        Tool.Check("mkfifo", Path.Combine(root, "fifo"));
        Tool.Check("mknod", Path.Combine(root, "chr-old"), "c", "1", "3");
        Tool.Check("mknod", Path.Combine(root, "chr-new"), "c", "300", "70000");
        Tool.Check("mknod", Path.Combine(root, "blk"), "b", "8", "1");
        // Small directories: inline with inline_data (the second spills into system.data).
        Directory.CreateDirectory(Path.Combine(root, "tiny-dir"));
        WriteRandom("tiny-dir/a", 3);
        Directory.CreateDirectory(Path.Combine(root, "small-dir"));
        for (int i = 0; i < 4; i++)
        {
            WriteRandom($"small-dir/entry-{i}", 100 + i);
        }

        WriteRandom("owned", 10);
        Tool.Check("chown", "70000:80000", Path.Combine(root, "owned"));
        File.WriteAllText(Path.Combine(root, "utf8-\u00e9\u65e5"), "unicode name");

        // Xattrs in the user, trusted and security namespaces, small enough for the inode.
        WriteRandom("xattrs", 20);
        string x = Path.Combine(root, "xattrs");
        Tool.Check("setfattr", "-n", "user.color", "-v", "blue", x);
        Tool.Check("setfattr", "-n", "trusted.t", "-v", "0x00ff10", x);
        Tool.Check("setfattr", "-n", "security.s", "-v", "sec", x);

        // A value too big for the inode: goes to the xattr block (still fits a 1 KiB block).
        WriteRandom("bigxattr", 5);
        Tool.Check("setfattr", "-n", "user.big", "-v", "0x" + Convert.ToHexString(Enumerable.Range(0, 500).Select(i => (byte)i).ToArray()), Path.Combine(root, "bigxattr"));

        // Small ACL (fits in the inode with 256-byte inodes) and a 40-user ACL (340 bytes: xattr block).
        WriteRandom("acl-small", 5);
        Tool.Check("setfacl", "-m", "u:1000:rwx,g:100:r-x", Path.Combine(root, "acl-small"));
        WriteRandom("acl-big", 5);
        string spec = string.Join(',', Enumerable.Range(0, 40).Select(i => $"u:{2000 + i}:r--"));
        Tool.Check("setfacl", "-m", spec, Path.Combine(root, "acl-big"));
        Directory.CreateDirectory(Path.Combine(root, "acl-dir"));
        Tool.Check("setfacl", "-d", "-m", "u:1000:rwx", Path.Combine(root, "acl-dir"));

        // Sparse 5 GiB file with data past 4 GiB and at the very end.
        using (var fs = new FileStream(Path.Combine(root, SparseName), FileMode.CreateNew))
        {
            fs.SetLength(SparseSize);
            fs.Position = SparseMidOffset;
            fs.Write(SparseMid);
            fs.Position = SparseSize - SparseEnd.Length;
            fs.Write(SparseEnd);
        }

        // One byte in every other block: as many extents as runs (depth >= 2 with extents).
        using (var fs = new FileStream(Path.Combine(root, ManyExtentsName), FileMode.CreateNew))
        {
            for (int i = 0; i < ManyExtentsRuns; i++)
            {
                fs.Position = (long)i * 2 * blockSize;
                fs.WriteByte((byte)(i | 1));
            }
        }
    }

    /// <summary>Relative paths of every object under <paramref name="root"/>, parents first.</summary>
    public static IEnumerable<string> Walk(string root)
    {
        var stack = new Stack<string>();
        stack.Push("");
        while (stack.Count > 0)
        {
            string rel = stack.Pop();
            foreach (var entry in new DirectoryInfo(Path.Combine(root, rel)).EnumerateFileSystemInfos())
            {
                string child = rel.Length == 0 ? entry.Name : rel + "/" + entry.Name;
                yield return child;
                if (entry is DirectoryInfo && entry.LinkTarget == null)
                {
                    stack.Push(child);
                }
            }
        }
    }

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>True for a regular file (not a symlink, fifo, device or directory), judged by lstat.</summary>
    public static bool IsRegularFile(string path)
    {
        var fi = new FileInfo(path);
        return fi.Exists && fi.LinkTarget == null
            && Tool.Check("stat", "-c", "%F", path).Trim() is "regular file" or "regular empty file";
    }
}
