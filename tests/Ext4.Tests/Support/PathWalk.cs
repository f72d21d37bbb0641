using System.Text;

namespace Safemount.Ext4.Tests.Support;

/// <summary>Resolves slash-separated paths from the root inode with <see cref="Ext4Volume.Lookup"/>.</summary>
internal static class PathWalk
{
    public const uint RootIno = 2;

    /// <summary>The inode of <paramref name="path"/> ("" or "/" is the root); 0 when a component is missing.</summary>
    public static uint Resolve(Ext4Volume v, string path)
    {
        uint ino = RootIno;
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var dir = v.ReadInode(ino);
            ino = v.Lookup(dir, Encoding.UTF8.GetBytes(part));
            if (ino == 0)
            {
                return 0;
            }
        }

        return ino;
    }

    public static Ext4Inode Inode(Ext4Volume v, string path)
    {
        uint ino = Resolve(v, path);
        if (ino == 0)
        {
            throw new FileNotFoundException(path);
        }

        return v.ReadInode(ino);
    }

    /// <summary>Reads a whole file through <see cref="Ext4Volume.Read"/> in chunks of <paramref name="chunk"/> bytes.</summary>
    public static byte[] ReadAll(Ext4Volume v, Ext4Inode inode, int chunk = 1 << 20)
    {
        var result = new byte[inode.Size];
        long pos = 0;
        while (pos < inode.Size)
        {
            int n = v.Read(inode, pos, result.AsSpan((int)pos, (int)Math.Min(chunk, inode.Size - pos)));
            if (n <= 0)
            {
                throw new InvalidOperationException($"short read at {pos}");
            }

            pos += n;
        }

        return result;
    }
}
