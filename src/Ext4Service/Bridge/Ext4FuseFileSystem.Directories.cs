using Safemount.Ext4;
using Safemount.Fuse;
using Safemount.Shared.Interop;

namespace Safemount.Ext4Service.Bridge;

/// <summary>OPENDIR / READDIR / READDIRPLUS / RELEASEDIR.</summary>
internal sealed partial class Ext4FuseFileSystem
{
    public Errno OpenDir(in FuseRequestContext ctx, ulong nodeId, uint flags, out ulong fh, out uint openFlags)
    {
        fh = 0;
        openFlags = 0;
        Errno e = GetDirectory(nodeId, out Ext4Inode? dir);
        if (e != Errno.None)
        {
            return e;
        }

        IReadOnlyList<Ext4DirEntry> entries = IsReadOnly ? _volume.ReadDirectory(dir!) : _volume.ReadDirectory(dir!.Number) ?? [];
        fh = _dirs.Add(new DirectorySnapshot(dir!.Number, entries));
        openFlags = IsReadOnly ? FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR : 0;
        return Errno.None;
    }

    /// <summary>
    /// Emits entries from index <paramref name="offset"/> of the OPENDIR snapshot until the reply
    /// is full. In READDIRPLUS mode each entry but "." and ".." carries its attributes and counts
    /// one lookup — only once the record is in the reply (the kernel ignores the node ids of dot
    /// entries, fs/fuse/readdir.c fuse_direntplus_link, so they are sent with node id 0).
    /// </summary>
    public Errno ReadDir(in FuseRequestContext ctx, ulong nodeId, ulong fh, ulong offset, bool plus, ref FuseDirectoryWriter writer)
    {
        DirectorySnapshot? snapshot = _dirs.Get(fh);
        if (snapshot is null || NodeIds.FromInode(snapshot.Inode) != nodeId)
        {
            return Errno.EBADF;
        }

        if (offset == 0 && !IsReadOnly && snapshot.Served)
        {
            // rewinddir(3) must show the directory as it is now (POSIX); a read-write volume may have changed it.
            // The first READDIR after OPENDIR is served from OPENDIR's snapshot: reading the directory twice per listing bought nothing.
            snapshot = new DirectorySnapshot(snapshot.Inode, _volume.ReadDirectory(snapshot.Inode) ?? []);
            _dirs.Replace(fh, snapshot);
        }

        snapshot.Served = true;

        IReadOnlyList<Ext4DirEntry> entries = snapshot.Entries;
        for (ulong i = offset; i < (ulong)entries.Count; i++)
        {
            Ext4DirEntry d = entries[(int)i];
            uint dt = AttrMapper.FileTypeToDt(d.FileType);
            bool dot = IsDotOrDotDot(d.Name);
            if (!plus)
            {
                if (dt == 0 && !dot)
                {
                    dt = AttrMapper.ModeToDt(_volume.ReadInode(d.Inode).Mode);
                }

                if (!writer.TryAdd(d.Inode, i + 1, dt, d.Name))
                {
                    break;
                }

                continue;
            }

            Ext4Inode? child = dot ? null : _volume.ReadInode(d.Inode);
            if (dot || !child!.MayBeNamed)
            {
                // Dots, and names of deleted inodes or of EA inodes (listed as the kernel lists
                // them; a LOOKUP of one fails with EUCLEAN):
                // Node id 0: no attributes, no lookup; the dirent still carries the inode
                // number (glibc's readdir skips records whose d_ino is 0).
                if (!writer.TryAddPlus(new FuseEntry(0, 0, new FuseAttr { Ino = d.Inode }), i + 1, dt == 0 && dot ? 4 : dt, d.Name))
                {
                    break;
                }

                continue;
            }

            FuseEntry entry = MakeEntry(child);
            if (dt == 0)
            {
                dt = AttrMapper.ModeToDt(child.Mode);
            }

            if (!writer.TryAddPlus(entry, i + 1, dt, d.Name))
            {
                break;
            }

            _lookups.Add(entry.NodeId);
        }

        return Errno.None;
    }

    public void ReleaseDir(ulong nodeId, ulong fh) => _dirs.Remove(fh);

    private static bool IsDotOrDotDot(ReadOnlySpan<byte> name) =>
        (name.Length == 1 && name[0] == (byte)'.') ||
        (name.Length == 2 && name[0] == (byte)'.' && name[1] == (byte)'.');
}
