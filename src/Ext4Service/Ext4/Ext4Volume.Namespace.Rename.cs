using Safemount.Ext4.Allocation;
using Safemount.Ext4.Format;
using L = Safemount.Ext4.Format.InodeLayout;

namespace Safemount.Ext4;

/// <summary>
/// rename(2) and renameat2(2) (kernel: namei.c ext4_rename, ext4_cross_rename; fs/namei.c
/// lock_rename, vfs_rename's checks).
/// <para>
/// Locking: <see cref="_renameLock"/> first (the VFS's s_vfs_rename_mutex: while it is held no
/// other rename changes which directory lies under which, so the ancestry checks stay true),
/// then the two parents (the ancestor first, otherwise ascending inode number), then the source
/// and target inodes (directories first, then ascending number), then the handle. A target
/// directory that is an ancestor of the source's parent is refused (ENOTEMPTY, EINVAL for an
/// exchange) before it is locked, as lock_rename's trap, so the order never inverts.
/// </para>
/// </summary>
public sealed partial class Ext4Volume
{
    /// <summary>Serializes renames (lock level 0, before any inode lock).</summary>
    private readonly Lock _renameLock = new();

    /// <summary>Opens both parents' directories for editing (one editor when they are the same directory).</summary>
    private Ext4Errno OpenParents(Ext4Transaction tx, uint oldParent, uint newParent,
        out VolumeDirectoryBlocks oldDir, out DirectoryEditor oldEd, out VolumeDirectoryBlocks newDir, out DirectoryEditor newEd)
    {
        var rights = AllocationRights.Reserved;
        var err = OpenDirectory(tx, oldParent, rights, out oldDir, out oldEd);
        newDir = oldDir;
        newEd = oldEd;
        if (err == Ext4Errno.None && oldParent != newParent)
        {
            err = OpenDirectory(tx, newParent, rights, out newDir, out newEd);
        }

        return err;
    }

    /// <summary>
    /// Renames <paramref name="oldName"/> in <paramref name="oldParent"/> to
    /// <paramref name="newName"/> in <paramref name="newParent"/>, replacing a target unless
    /// <see cref="RenameFlags.NoReplace"/>, or swapping the two with <see cref="RenameFlags.Exchange"/>.
    /// A directory moved to another parent gets its ".." changed and both parents' link counts.
    /// With <see cref="RenameFlags.Whiteout"/> the source name is left naming a new whiteout inode
    /// (ext4_whiteout_for_rename: S_IFCHR with mode 0 and device 0:0, owned by
    /// <paramref name="uid"/>/<paramref name="gid"/> as any inode created in the source directory).
    /// </summary>
    public Ext4Errno Rename(uint oldParent, ReadOnlySpan<byte> oldName, uint newParent, ReadOnlySpan<byte> newName, RenameFlags flags,
        uint uid = 0, uint gid = 0)
    {
        // do_renameat2: EXCHANGE goes with neither NOREPLACE nor WHITEOUT.
        if ((flags & ~(RenameFlags.NoReplace | RenameFlags.Exchange | RenameFlags.Whiteout)) != 0
            || ((flags & RenameFlags.Exchange) != 0 && (flags & (RenameFlags.NoReplace | RenameFlags.Whiteout)) != 0))
        {
            return Ext4Errno.EINVAL;
        }

        var err = Precheck(oldName);
        if (err == Ext4Errno.None)
        {
            err = Precheck(newName);
        }

        if (err != Ext4Errno.None)
        {
            return err;
        }

        bool exchange = (flags & RenameFlags.Exchange) != 0;
        lock (_renameLock)
        {
            bool sameParent = oldParent == newParent;
            uint first = oldParent, second = newParent;
            if (!sameParent && !IsAncestor(oldParent, newParent) && (IsAncestor(newParent, oldParent) || newParent < oldParent))
            {
                (first, second) = (newParent, oldParent);
            }

            using var lock1 = InodeLocks.Acquire(first, exclusive: true);
            using var lock2 = sameParent ? default : InodeLocks.Acquire(second, exclusive: true);
            var oldDir = ReadInode(oldParent);
            var newDir = ReadInode(newParent);
            if (!oldDir.IsDirectory || !newDir.IsDirectory)
            {
                return Ext4Errno.ENOTDIR;
            }

            uint src = Lookup(oldDir, oldName);
            if (src == 0)
            {
                return Ext4Errno.ENOENT;
            }

            uint dst = Lookup(newDir, newName);
            if (exchange && dst == 0)
            {
                return Ext4Errno.ENOENT;
            }

            if (src == dst)
            {
                return Ext4Errno.None; // two names of one inode: rename does nothing (POSIX)
            }

            if (src == oldParent || (dst != 0 && dst == newParent))
            {
                throw new Ext4CorruptionException($"directory entry names its own directory (inode {src}/{dst})");
            }

            if (src == newParent)
            {
                return Ext4Errno.EINVAL; // a directory into itself
            }

            if (dst == oldParent)
            {
                return exchange ? Ext4Errno.EINVAL : Ext4Errno.ENOTEMPTY; // lock_rename's trap: the target holds the source
            }

            var source = ReadInode(src);
            var target = dst != 0 ? ReadInode(dst) : null;
            if (!source.MayBeNamed || (target != null && !target.MayBeNamed))
            {
                throw new Ext4CorruptionException($"rename: an entry names a deleted or EA inode ({src}, {dst})");
            }

            if (source.IsDirectory && !sameParent && IsAncestor(src, newParent))
            {
                return Ext4Errno.EINVAL; // a directory into its own subtree
            }

            if (target != null)
            {
                if ((flags & RenameFlags.NoReplace) != 0)
                {
                    return Ext4Errno.EEXIST;
                }

                if (target.IsDirectory && !sameParent && IsAncestor(dst, oldParent))
                {
                    return exchange ? Ext4Errno.EINVAL : Ext4Errno.ENOTEMPTY;
                }

                if (!exchange && source.IsDirectory != target.IsDirectory)
                {
                    return source.IsDirectory ? Ext4Errno.ENOTDIR : Ext4Errno.EISDIR;
                }
            }

            // Children: directories first, then ascending inode number.
            bool srcFirst = target == null || (source.IsDirectory && !target.IsDirectory)
                || (source.IsDirectory == target.IsDirectory && src < dst);
            using var lock3 = InodeLocks.Acquire(srcFirst ? src : dst, exclusive: true);
            using var lock4 = target == null ? default : InodeLocks.Acquire(srcFirst ? dst : src, exclusive: true);
            using var tx = Begin();
            source = ReadInode(src);
            target = dst != 0 ? ReadInode(dst) : null;
            err = MayRename(oldDir, newDir, source, target, exchange);
            if (err != Ext4Errno.None)
            {
                return err;
            }

            return exchange
                ? Exchange(tx, oldParent, oldName, newParent, newName, source, target!)
                : Move(tx, oldParent, oldName, newParent, newName, source, target,
                    (flags & RenameFlags.Whiteout) != 0 ? new Owner(uid, gid) : null);
        }
    }

    /// <summary>
    /// Moves <paramref name="source"/> to the new name (replacing <paramref name="target"/>);
    /// with <paramref name="whiteout"/> the old name then names a new whiteout inode instead of
    /// being removed (ext4_rename: ext4_setent on the old entry).
    /// </summary>
    private Ext4Errno Move(Ext4Transaction tx, uint oldParent, ReadOnlySpan<byte> oldName, uint newParent, ReadOnlySpan<byte> newName,
        Ext4Inode source, Ext4Inode? target, Owner? whiteout)
    {
        bool sameParent = oldParent == newParent;
        var rights = AllocationRights.Reserved;
        var err = OpenParents(tx, oldParent, newParent, out var oldDir, out var oldEd, out var newDir, out var newEd);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        if (target != null && target.IsDirectory)
        {
            err = IsEmptyDirectory(tx, target, out bool empty);
            if (err != Ext4Errno.None)
            {
                return err;
            }

            if (!empty)
            {
                return Ext4Errno.ENOTEMPTY;
            }
        }

        if (source.IsDirectory && target == null && !sameParent && DirLinkMax(newDir.Record))
        {
            return Ext4Errno.EMLINK;
        }

        // A directory source: prepare its ".." edit first (it may refuse: inline/encrypted kinds).
        VolumeDirectoryBlocks? srcDir = null;
        DirectoryEditor? srcEd = null;
        if (source.IsDirectory && !sameParent && !source.HasInlineData)
        {
            err = OpenDirectory(tx, source.Number, rights, out srcDir, out srcEd);
            if (err != Ext4Errno.None)
            {
                return err;
            }
        }

        // The whiteout exists before any entry changes, so that running out of inodes changes nothing.
        InodeRecord? white = null;
        if (whiteout is Owner owner)
        {
            err = NewWhiteout(tx, oldDir.Record, owner, out white);
            if (err != Ext4Errno.None)
            {
                return err;
            }
        }

        byte ft = FileTypeOf(source.Mode);
        if (target != null)
        {
            if (newEd.Replace(newName, source.Number, ft, out uint was) != DirEditResult.Ok || was != target.Number)
            {
                throw new InvalidOperationException("rename target changed under its lock");
            }
        }
        else
        {
            var add = newEd.Add(newName, source.Number, ft);
            if (add != DirEditResult.Ok)
            {
                if (white != null)
                {
                    white.LinksCount = 0;
                    FreeInode(tx, white);
                }

                WriteInode(tx, newDir.Record); // a directory that became indexed before ENOSPC keeps its flag
                return add == DirEditResult.Exists ? Ext4Errno.EEXIST : Ext4Errno.ENOSPC;
            }
        }

        uint removed;
        if (white != null
            ? oldEd.Replace(oldName, white.Number, FileTypeOf(white.Mode), out removed) != DirEditResult.Ok
            : oldEd.Remove(oldName, out removed) != DirEditResult.Ok)
        {
            throw new InvalidOperationException("rename source changed under its lock");
        }

        if (removed != source.Number)
        {
            throw new InvalidOperationException("rename source changed under its lock");
        }

        var (s, ns) = Now();
        InodeRecord srcRec = srcDir?.Record ?? InodeRecord.From(this, source);
        if (source.IsDirectory && !sameParent)
        {
            SetParent(srcEd, srcRec, newParent);
        }

        InodeRecord? dstRec = target != null ? InodeRecord.From(this, target) : null;
        if (source.IsDirectory)
        {
            DecLinks(oldDir.Record);
            if (dstRec != null)
            {
                dstRec.LinksCount = 0; // checked empty: no other parent (clear_nlink)
            }
            else
            {
                IncDirLinks(newDir.Record);
            }
        }
        else if (dstRec != null)
        {
            if ((dstRec.Mode & L.S_IFMT) == L.S_IFDIR)
            {
                throw new InvalidOperationException("non-directory renamed over a directory");
            }

            DecLinks(dstRec);
        }

        srcRec.SetCtime(s, ns);
        WriteInode(tx, srcRec);

        // One entry change in each directory: the new name added or set, the old one removed
        // or set to the whiteout.
        TouchDirectory(tx, oldDir, s, ns, sameParent ? 2 : 1);
        if (!sameParent)
        {
            TouchDirectory(tx, newDir, s, ns);
        }

        if (dstRec != null)
        {
            dstRec.SetCtime(s, ns);
            if (dstRec.LinksCount == 0)
            {
                ReleaseInode(tx, dstRec);
            }
            else
            {
                WriteInode(tx, dstRec);
            }
        }

        return Ext4Errno.None;
    }

    private Ext4Errno Exchange(Ext4Transaction tx, uint oldParent, ReadOnlySpan<byte> oldName, uint newParent, ReadOnlySpan<byte> newName,
        Ext4Inode source, Ext4Inode target)
    {
        bool sameParent = oldParent == newParent;
        var rights = AllocationRights.Reserved;
        var err = OpenParents(tx, oldParent, newParent, out var oldDir, out var oldEd, out var newDir, out var newEd);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        bool crossDirs = !sameParent && source.IsDirectory != target.IsDirectory;
        if (crossDirs && DirLinkMax(source.IsDirectory ? newDir.Record : oldDir.Record))
        {
            return Ext4Errno.EMLINK;
        }

        VolumeDirectoryBlocks? srcDir = null, dstDir = null;
        DirectoryEditor? srcEd = null, dstEd = null;
        if (!sameParent && source.IsDirectory && !source.HasInlineData)
        {
            err = OpenDirectory(tx, source.Number, rights, out srcDir, out srcEd);
        }

        if (err == Ext4Errno.None && !sameParent && target.IsDirectory && !target.HasInlineData)
        {
            err = OpenDirectory(tx, target.Number, rights, out dstDir, out dstEd);
        }

        if (err != Ext4Errno.None)
        {
            return err;
        }

        if (newEd.Replace(newName, source.Number, FileTypeOf(source.Mode), out uint was) != DirEditResult.Ok || was != target.Number
            || oldEd.Replace(oldName, target.Number, FileTypeOf(target.Mode), out was) != DirEditResult.Ok || was != source.Number)
        {
            throw new InvalidOperationException("exchanged entries changed under their locks");
        }

        var (s, ns) = Now();
        InodeRecord srcRec = srcDir?.Record ?? InodeRecord.From(this, source);
        InodeRecord dstRec = dstDir?.Record ?? InodeRecord.From(this, target);
        if (!sameParent)
        {
            if (source.IsDirectory)
            {
                SetParent(srcEd, srcRec, newParent);
            }

            if (target.IsDirectory)
            {
                SetParent(dstEd, dstRec, oldParent);
            }

            if (crossDirs)
            {
                var (from, to) = source.IsDirectory ? (oldDir.Record, newDir.Record) : (newDir.Record, oldDir.Record);
                DecLinks(from);
                IncDirLinks(to);
            }
        }

        srcRec.SetCtime(s, ns);
        dstRec.SetCtime(s, ns);
        WriteInode(tx, srcRec);
        WriteInode(tx, dstRec);
        TouchDirectory(tx, oldDir, s, ns, sameParent ? 2 : 1); // ext4_cross_rename: two ext4_setent
        if (!sameParent)
        {
            TouchDirectory(tx, newDir, s, ns);
        }

        return Ext4Errno.None;
    }

    /// <summary>Points a moved directory's ".." at its new parent: block 0's second record, or an inline directory's first four bytes.</summary>
    private static void SetParent(DirectoryEditor? editor, InodeRecord dir, uint parent)
    {
        if (editor != null)
        {
            editor.SetDotDot(parent);
        }
        else
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(dir.IBlock, parent);
        }
    }

    /// <summary>
    /// True when directory <paramref name="ancestor"/> lies on the ".." chain from
    /// <paramref name="dir"/> up to the root (<paramref name="dir"/> itself excluded). Takes no
    /// inode locks (it runs while the parents' locks are held, and ancestors come first in the
    /// order): under <see cref="_renameLock"/> no other rename moves a directory, and every
    /// directory above a locked one is non-empty, so no rmdir can change the chain.
    /// </summary>
    private bool IsAncestor(uint ancestor, uint dir)
    {
        uint at = dir;
        for (uint steps = 0; steps <= Sb.s_inodes_count; steps++)
        {
            if (at == L.EXT4_ROOT_INO)
            {
                return false;
            }

            var inode = ReadInode(at);
            if (!inode.IsDirectory || inode.LinksCount == 0)
            {
                // Not (or no longer) a live directory: a directory being removed right now
                // (only an empty one, so never an ancestor of anything) ends the walk.
                return false;
            }

            at = Lookup(inode, ".."u8);
            if (at == ancestor)
            {
                return true;
            }

            if (at == 0)
            {
                throw new Ext4CorruptionException($"directory inode {inode.Number} has no \"..\"");
            }
        }

        throw new Ext4CorruptionException($"the \"..\" chain from directory inode {dir} loops");
    }
}
