using Safemount.Ext4.Allocation;
using Safemount.Ext4.Format;
using L = Safemount.Ext4.Format.InodeLayout;

namespace Safemount.Ext4;

/// <summary>
/// Namespace operations of the read-write engine (kernel: fs/ext4/namei.c ext4_create,
/// ext4_mknod, ext4_mkdir, ext4_symlink, ext4_link, ext4_unlink, ext4_rmdir; rename in
/// Ext4Volume.Namespace.Rename.cs). Each public method takes the inode locks it needs in the
/// volume's order (directories before non-directories; the parent before its child), then
/// begins its own handle, and writes every changed inode once at the end. Names are bytes,
/// 1..255, no '/' or NUL. Expected failures are <see cref="Ext4Errno"/> values: EROFS,
/// ENOENT, EEXIST, ENOTDIR, EISDIR, ENOTEMPTY, ENAMETOOLONG, EMLINK, ENOSPC, EINVAL, and
/// EOPNOTSUPP for directories this engine does not edit (encrypted or case-folded ones). An
/// inline-data directory is converted to a block directory on its first edit
/// (Ext4Volume.Namespace.Inline.cs). Timestamps as the kernel: the parent's mtime and ctime on every
/// entry change, the target's ctime on link count changes.
/// <para>
/// Unlinking the last name of an inode frees it, or, while something outside still references
/// it, puts it on the orphan list (Ext4Volume.Orphans.cs).
/// </para>
/// </summary>
public sealed partial class Ext4Volume
{
    private XattrWriter? _xattrWriter; // created on first use (LazyInitializer)

    internal XattrWriter XattrWriter => LazyInitializer.EnsureInitialized(ref _xattrWriter, () => new XattrWriter(this));

    /// <summary>Creates a regular file (S_IFREG | permission bits in <paramref name="mode"/>).</summary>
    public Ext4Errno Create(uint parent, ReadOnlySpan<byte> name, ushort mode, uint uid, uint gid, out Ext4Inode? created, uint umask = 0) =>
        Mknod(parent, name, (ushort)(L.S_IFREG | (mode & 0xFFF)), 0, 0, uid, gid, out created, umask);

    /// <summary>
    /// Creates a regular file, fifo, socket, or character/block device (<paramref name="mode"/>
    /// carries the type; the device numbers only for devices).
    /// </summary>
    public Ext4Errno Mknod(uint parent, ReadOnlySpan<byte> name, ushort mode, uint rdevMajor, uint rdevMinor, uint uid, uint gid, out Ext4Inode? created, uint umask = 0)
    {
        ushort type = (ushort)(mode & L.S_IFMT);
        if (type is not (L.S_IFREG or L.S_IFIFO or L.S_IFSOCK or L.S_IFCHR or L.S_IFBLK))
        {
            created = null;
            return Ext4Errno.EINVAL;
        }

        return CreateNode(parent, name, mode, uid, gid, umask, (tx, r) =>
        {
            if (type is L.S_IFCHR or L.S_IFBLK)
            {
                r.SetDevice(rdevMajor, rdevMinor);
            }

            return Ext4Errno.None;
        }, out created);
    }

    /// <summary>
    /// Creates a directory: "." and ".." in its first block, 2 links, the parent's link count
    /// + 1 (EMLINK at EXT4_LINK_MAX unless the parent is indexed and dir_nlink is on).
    /// </summary>
    public Ext4Errno Mkdir(uint parent, ReadOnlySpan<byte> name, ushort mode, uint uid, uint gid, out Ext4Inode? created, uint umask = 0) =>
        CreateNode(parent, name, (ushort)(L.S_IFDIR | (mode & 0xFFF)), uid, gid, umask, (tx, r) =>
        {
            var err = FileData.MapOrAllocateBlock(tx, r, 0, RightsOf(uid, gid), out ulong block, out _);
            if (err != Ext4Errno.None)
            {
                return err;
            }

            bool filetype = Sb.HasIncompat(Ext4Features.INCOMPAT_FILETYPE);
            bool csum = HasMetadataCsum;
            uint seed = VolumeDirectoryBlocks.InodeSeed(this, r.Number, r.Generation);
            uint self = r.Number;
            tx.Create(block, $"directory inode {self} block 0", b =>
            {
                DirectoryBlock.InitDotDot(b, self, parent, filetype, csum);
                if (csum)
                {
                    DirectoryBlock.SetChecksum(b, seed);
                }
            });
            r.Size = BlockSize;
            r.LinksCount = 2;
            return Ext4Errno.None;
        }, out created);

    /// <summary>
    /// Creates a symbolic link to <paramref name="target"/> (1 .. block size - 1 bytes, else
    /// ENOENT / ENAMETOOLONG): a fast symlink in i_block below 60 bytes (ext4_symlink's
    /// EXT4_N_BLOCKS * 4 with the NUL), else a slow one in a data block.
    /// </summary>
    public Ext4Errno Symlink(uint parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, uint uid, uint gid, out Ext4Inode? created)
    {
        created = null;
        if (target.IsEmpty)
        {
            return Ext4Errno.ENOENT;
        }

        if (target.Length + 1 > BlockSize)
        {
            return Ext4Errno.ENAMETOOLONG;
        }

        byte[] t = target.ToArray();
        return CreateNode(parent, name, (ushort)(L.S_IFLNK | 0x1FF), uid, gid, 0, (tx, r) =>
        {
            if (t.Length + 1 <= L.IBlockSize)
            {
                r.Flags &= ~L.EXT4_EXTENTS_FL;
                r.IBlock.Clear();
                t.CopyTo(r.IBlock);
            }
            else
            {
                var err = FileData.MapOrAllocateBlock(tx, r, 0, RightsOf(uid, gid), out ulong block, out _);
                if (err != Ext4Errno.None)
                {
                    return err;
                }

                tx.ZeroData(block, 1);
                tx.WriteData(block, 0, t);
            }

            r.Size = t.Length;
            return Ext4Errno.None;
        }, out created);
    }

    /// <summary>Adds the name <paramref name="name"/> in <paramref name="parent"/> for the existing non-directory <paramref name="ino"/>.</summary>
    public Ext4Errno Link(uint ino, uint parent, ReadOnlySpan<byte> name, out Ext4Inode? linked)
    {
        linked = null;
        var err = Precheck(name);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        // A directory is refused before any lock: locking it after the parent could invert
        // the directory order. The type of an allocated inode never changes.
        if (ino == parent || ReadInode(ino).IsDirectory)
        {
            return Ext4Errno.EPERM;
        }

        using var lockParent = InodeLocks.Acquire(parent, exclusive: true);
        using var lockTarget = InodeLocks.Acquire(ino, exclusive: true);
        using var tx = Begin();
        var inode = ReadInode(ino);
        if (inode.IsDirectory)
        {
            return Ext4Errno.EPERM;
        }

        // A name for an inode without links only for an O_TMPFILE file (the kernel's I_LINKABLE).
        bool tmpfile = inode.LinksCount == 0 && _linkable.ContainsKey(ino);
        if ((inode.LinksCount == 0 && !tmpfile) || inode.IsXattrValueInode)
        {
            return Ext4Errno.ENOENT;
        }

        // vfs_link: may_create in the directory, then no new name for an immutable or append-only inode.
        var parentInode = ReadInode(parent);
        if ((parentInode.IsDirectory && MayCreateIn(parentInode) != Ext4Errno.None) || IsImmutable(inode) || IsAppendOnly(inode))
        {
            return Ext4Errno.EPERM;
        }

        if (inode.LinksCount >= EXT4_LINK_MAX)
        {
            return Ext4Errno.EMLINK;
        }

        err = OpenDirectory(tx, parent, RightsOf(inode.Uid, inode.Gid), out var dir, out var editor);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        var add = editor.Add(name, ino, FileTypeOf(inode.Mode));
        if (add != DirEditResult.Ok)
        {
            WriteInode(tx, dir.Record);
            return add == DirEditResult.Exists ? Ext4Errno.EEXIST : Ext4Errno.ENOSPC;
        }

        var (s, ns) = Now();
        var r = InodeRecord.From(this, inode);
        r.LinksCount++;
        r.SetCtime(s, ns);
        if (tmpfile)
        {
            Orphans.Remove(tx, ino);
            r.Dtime = 0;
            _linkable.TryRemove(ino, out _);
        }

        linked = WriteInode(tx, r);
        TouchDirectory(tx, dir, s, ns);
        return Ext4Errno.None;
    }

    /// <summary>Removes the name of a non-directory; its inode is freed when that was its last link.</summary>
    public Ext4Errno Unlink(uint parent, ReadOnlySpan<byte> name) => Remove(parent, name, directory: false);

    /// <summary>Removes an empty directory (ENOTEMPTY otherwise).</summary>
    public Ext4Errno Rmdir(uint parent, ReadOnlySpan<byte> name) => Remove(parent, name, directory: true);

    private Ext4Errno Remove(uint parent, ReadOnlySpan<byte> name, bool directory)
    {
        var err = Precheck(name);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        using var lockParent = InodeLocks.Acquire(parent, exclusive: true);
        var dirInode = ReadInode(parent);
        if (!dirInode.IsDirectory)
        {
            return Ext4Errno.ENOTDIR;
        }

        uint ino = Lookup(dirInode, name);
        if (ino == 0)
        {
            return Ext4Errno.ENOENT;
        }

        if (ino == parent)
        {
            throw new Ext4CorruptionException($"directory inode {parent} names itself");
        }

        using var lockChild = InodeLocks.Acquire(ino, exclusive: true);
        using var tx = Begin();
        var child = ReadInode(ino);
        if (!child.MayBeNamed)
        {
            throw new Ext4CorruptionException($"directory inode {parent}: entry names deleted or EA inode {ino}");
        }

        // may_delete checks the directory and the victim before the victim's type.
        err = MayDelete(dirInode, child);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        if (directory != child.IsDirectory)
        {
            return directory ? Ext4Errno.ENOTDIR : Ext4Errno.EISDIR;
        }

        err = OpenDirectory(tx, parent, AllocationRights.Reserved, out var dir, out var editor);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        if (directory)
        {
            err = IsEmptyDirectory(tx, child, out bool empty);
            if (err != Ext4Errno.None)
            {
                return err;
            }

            if (!empty)
            {
                return Ext4Errno.ENOTEMPTY;
            }
        }

        if (editor.Remove(name, out uint removed) != DirEditResult.Ok || removed != ino)
        {
            throw new InvalidOperationException($"directory inode {parent}: entry changed under its lock");
        }

        var (s, ns) = Now();
        var r = InodeRecord.From(this, child);
        if (directory)
        {
            r.LinksCount = 0;
            DecLinks(dir.Record);
        }
        else
        {
            DecLinks(r);
        }

        TouchDirectory(tx, dir, s, ns);
        r.SetCtime(s, ns);
        if (r.LinksCount == 0)
        {
            ReleaseInode(tx, r);
        }
        else
        {
            WriteInode(tx, r);
        }

        return Ext4Errno.None;
    }

    /// <summary>The common part of Mknod, Mkdir and Symlink: checks, a new inode, <paramref name="init"/>, the entry, the parent.</summary>
    private Ext4Errno CreateNode(uint parent, ReadOnlySpan<byte> name, ushort mode, uint uid, uint gid, uint umask,
        Func<Ext4Transaction, InodeRecord, Ext4Errno> init, out Ext4Inode? created)
    {
        created = null;
        var err = Precheck(name);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        bool isDir = (mode & L.S_IFMT) == L.S_IFDIR;
        var rights = RightsOf(uid, gid);
        using var lockParent = InodeLocks.Acquire(parent, exclusive: true);
        var parentInode = ReadInode(parent);
        if (parentInode.IsDirectory && MayCreateIn(parentInode) != Ext4Errno.None)
        {
            return Ext4Errno.EPERM;
        }

        using var tx = Begin();
        err = OpenDirectory(tx, parent, rights, out var dir, out var editor);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        if (editor.Locate(name) is not null)
        {
            return Ext4Errno.EEXIST;
        }

        if (isDir && DirLinkMax(dir.Record))
        {
            return Ext4Errno.EMLINK;
        }

        err = NewInode(tx, dir.Record, mode, uid, gid, out var r);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        err = init(tx, r);
        if (err == Ext4Errno.None)
        {
            err = InitAcl(tx, parent, r, umask);
        }

        if (err == Ext4Errno.None)
        {
            WriteInode(tx, r);
            var add = editor.Add(name, r.Number, FileTypeOf(r.Mode));
            err = add switch
            {
                DirEditResult.Ok => Ext4Errno.None,
                DirEditResult.Exists => Ext4Errno.EEXIST,
                _ => Ext4Errno.ENOSPC,
            };
        }

        if (err != Ext4Errno.None)
        {
            // Nothing names the new inode: give back what it got. The parent may have become
            // indexed (and grown) before the ENOSPC: its record is written all the same.
            r.LinksCount = 0;
            FreeInode(tx, r);
            WriteInode(tx, dir.Record);
            return err;
        }

        var (s, ns) = Now();
        if (isDir)
        {
            IncDirLinks(dir.Record);
        }

        TouchDirectory(tx, dir, s, ns);
        created = ReadInode(r.Number);
        return Ext4Errno.None;
    }

    /// <summary>Name checks the VFS would make before calling the file system (ENAMETOOLONG, EINVAL), and EROFS.</summary>
    private Ext4Errno Precheck(ReadOnlySpan<byte> name)
    {
        if (WriteRefusal is not null)
        {
            return Ext4Errno.EROFS;
        }

        return DirectoryBlock.CheckName(name) switch
        {
            null => Ext4Errno.None,
            DirNameProblem.TooLong => Ext4Errno.ENAMETOOLONG,
            DirNameProblem.Empty => Ext4Errno.ENOENT,
            _ => Ext4Errno.EINVAL,
        };
    }

    /// <summary>
    /// The editor for directory <paramref name="ino"/> in <paramref name="tx"/> (caller holds its
    /// lock exclusive): ENOTDIR, ENOENT for a deleted directory, EOPNOTSUPP for the kinds not
    /// edited; an inline directory is converted to a block directory first.
    /// </summary>
    private Ext4Errno OpenDirectory(Ext4Transaction tx, uint ino, AllocationRights rights, out VolumeDirectoryBlocks blocks, out DirectoryEditor editor)
    {
        blocks = null!;
        editor = null!;
        var inode = ReadInode(ino);
        if (!inode.IsDirectory)
        {
            return Ext4Errno.ENOTDIR;
        }

        if (inode.LinksCount == 0)
        {
            return Ext4Errno.ENOENT;
        }

        if (inode.HasFlag(L.EXT4_ENCRYPT_FL) || inode.HasFlag(L.EXT4_CASEFOLD_FL))
        {
            return Ext4Errno.EOPNOTSUPP;
        }

        if (inode.HasInlineData)
        {
            var err = ConvertInlineDirectory(tx, inode, rights, out inode);
            if (err != Ext4Errno.None)
            {
                return err;
            }
        }

        blocks = new VolumeDirectoryBlocks(this, tx, InodeRecord.From(this, inode), inode, rights);
        editor = new DirectoryEditor(blocks, blocks.Params());
        return Ext4Errno.None;
    }

    /// <summary>rmdir's ext4_empty_dir: nothing but "." and "..".</summary>
    private Ext4Errno IsEmptyDirectory(Ext4Transaction tx, Ext4Inode dir, out bool empty)
    {
        empty = false;
        if (dir.HasInlineData)
        {
            empty = ReadDirectory(dir).Count <= 2;
            return Ext4Errno.None;
        }

        var err = OpenDirectory(tx, dir.Number, AllocationRights.Reserved, out _, out var editor);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        empty = editor.IsEmpty();
        return Ext4Errno.None;
    }

    /// <summary>
    /// The parent's mtime and ctime after <paramref name="entryChanges"/> entry changes (adds,
    /// removals, or entries pointed at another inode), and i_version + 1 for each, as ext4 does
    /// (inode_inc_iversion in add_dirent_to_buf, ext4_delete_entry, ext4_setent); writes its
    /// record (size, links, flags included).
    /// </summary>
    private void TouchDirectory(Ext4Transaction tx, VolumeDirectoryBlocks dir, long s, uint ns, int entryChanges = 1)
    {
        dir.Record.SetMtime(s, ns);
        dir.Record.SetCtime(s, ns);
        dir.Record.Version += (ulong)entryChanges;
        WriteInode(tx, dir.Record);
    }

    /// <summary>The entry file type for a mode, when the filetype feature is on (else 0).</summary>
    private byte FileTypeOf(ushort mode) =>
        Sb.HasIncompat(Ext4Features.INCOMPAT_FILETYPE) ? FileTypes.FromMode(mode) : FileTypes.EXT4_FT_UNKNOWN;
}
