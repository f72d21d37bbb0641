using System.Security.Cryptography;
using System.Text;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Journal;

/// <summary>
/// Everything a reader sees of a volume, one line per path, read through the engine: mode,
/// ids, size, links, times (ns), flags, content hash, symlink target, xattrs, directory
/// entries with their types. Two volumes with equal snapshots serve the same tree.
/// </summary>
internal static class TreeSnapshot
{
    public static List<string> Take(Ext4Volume v)
    {
        var lines = new List<string>();
        Walk(v, PathWalk.RootIno, "/", lines, depth: 0);
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static void Walk(Ext4Volume v, uint ino, string path, List<string> lines, int depth)
    {
        Assert.That(depth, Is.LessThan(64), "directory tree too deep (loop?)");
        var inode = v.ReadInode(ino);
        var sb = new StringBuilder();
        sb.Append($"{path} mode={Convert.ToString(inode.Mode, 8)} uid={inode.Uid} gid={inode.Gid} size={inode.Size} nlink={inode.LinksCount}");
        sb.Append($" m={inode.MtimeSeconds}.{inode.MtimeNanoseconds} c={inode.CtimeSeconds}.{inode.CtimeNanoseconds}");
        sb.Append($" a={inode.AtimeSeconds}.{inode.AtimeNanoseconds} blocks={inode.Blocks512} flags={inode.Flags:x}");
        foreach (string name in v.ListXattrNames(inode).OrderBy(n => n, StringComparer.Ordinal))
        {
            sb.Append($" xattr:{name}={Convert.ToHexString(v.GetXattr(inode, name) ?? [])}");
        }

        if (inode.IsRegular)
        {
            sb.Append(" sha=").Append(Convert.ToHexString(SHA256.HashData(PathWalk.ReadAll(v, inode))));
        }
        else if (inode.IsSymlink)
        {
            sb.Append(" target=").Append(Encoding.UTF8.GetString(v.ReadSymlink(inode)));
        }

        lines.Add(sb.ToString());
        if (!inode.IsDirectory)
        {
            return;
        }

        foreach (var e in v.ReadDirectory(inode))
        {
            string name = Encoding.UTF8.GetString(e.Name);
            if (name is "." or "..")
            {
                continue;
            }

            string child = path == "/" ? "/" + name : path + "/" + name;
            lines.Add($"{child} -> ino {e.Inode} type {e.FileType}");
            Walk(v, e.Inode, child, lines, depth + 1);
        }
    }
}
