using System.Collections.Concurrent;
using L = Safemount.Ext4.Format.InodeLayout;

namespace Safemount.Ext4;

/// <summary>
/// Inodes that outlive their last name (kernel: ext4_orphan_add in ext4_unlink, ext4_evict_inode,
/// ext4_orphan_cleanup at mount). An unlinked inode the kernel still references (an open file, a
/// cached inode) stays allocated on the orphan list with no links until its last reference goes
/// (<see cref="ReleaseIfOrphan"/>, from FUSE FORGET); a crash leaves it on the list and the next
/// read-write mount frees it (<see cref="CleanupOrphans"/>), as the kernel and e2fsck do.
/// </summary>
public sealed partial class Ext4Volume
{
    /// <summary>
    /// Set by whoever serves the volume: true while something outside the engine still holds inode
    /// n (for FUSE: a nonzero lookup count). Called under n's inode lock; must not block. Null: no
    /// outside references, so a last unlink frees at once.
    /// </summary>
    public Func<uint, bool>? IsReferenced { get; set; }

    /// <summary>O_TMPFILE inodes that may still get their first name (the kernel's I_LINKABLE).</summary>
    private readonly ConcurrentDictionary<uint, byte> _linkable = new();

    /// <summary>
    /// O_TMPFILE (ext4_tmpfile): a new inode initialised as for a file created in directory
    /// <paramref name="dir"/>, with no links, on the orphan list until <see cref="Link"/> names it
    /// or its last reference goes.
    /// </summary>
    public Ext4Errno CreateTmpFile(uint dir, ushort mode, uint uid, uint gid, out Ext4Inode? created, uint umask = 0)
    {
        created = null;
        using var heldDir = InodeLocks.Acquire(dir, exclusive: false);
        using var tx = Begin();
        var parent = ReadInode(dir);
        if (!parent.IsDirectory)
        {
            return Ext4Errno.ENOTDIR;
        }

        if (parent.LinksCount == 0)
        {
            return Ext4Errno.ENOENT;
        }

        // vfs_tmpfile: MAY_WRITE on the directory.
        if (MayCreateIn(parent) != Ext4Errno.None)
        {
            return Ext4Errno.EPERM;
        }

        var err = NewInode(tx, InodeRecord.From(this, parent), mode, uid, gid, out var r);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        // Nobody else knows the new inode yet, so its lock is free; it is taken for the orphan list's rule.
        using var heldNew = InodeLocks.Acquire(r.Number, exclusive: true);
        err = InitAcl(tx, dir, r, umask);
        if (err != Ext4Errno.None)
        {
            FreeInode(tx, r);
            return err;
        }

        r.LinksCount = 0;
        _linkable[r.Number] = 0;
        Orphans.Add(tx, r.Number);
        created = WriteInode(tx, r);
        return Ext4Errno.None;
    }

    /// <summary>Orphans now on the list (in memory).</summary>
    public int OrphanCount => Orphans.Count;

    /// <summary>
    /// Frees inode <paramref name="ino"/> when it is an orphan without links (its last outside
    /// reference is gone); an orphan that still has links (a kernel truncate orphan) is
    /// truncated to i_size and taken off the list. Returns true when it was an orphan.
    /// </summary>
    public bool ReleaseIfOrphan(uint ino)
    {
        if (IsReadOnly || !Orphans.TryGetNext(ino, out _))
        {
            return false;
        }

        using var held = InodeLocks.Acquire(ino, exclusive: true);
        using var tx = Begin();
        if (!Orphans.TryGetNext(ino, out _))
        {
            return false;
        }

        var inode = ReadInode(ino);
        var r = InodeRecord.From(this, inode);
        Orphans.Remove(tx, ino);
        _linkable.TryRemove(ino, out _);
        if (inode.LinksCount == 0)
        {
            FreeInode(tx, r);
        }
        else if (inode.IsRegular || inode.IsDirectory || inode.IsSymlink)
        {
            // ext4_orphan_cleanup: "truncating inode": blocks past i_size are released.
            var err = FileData.SetSize(tx, r, inode.Size);
            if (err != Ext4Errno.None)
            {
                throw new Ext4CorruptionException($"orphan inode {ino}: truncating to i_size failed with {err}");
            }

            WriteInode(tx, r);
        }

        return true;
    }

    /// <summary>
    /// The mount-time cleanup (ext4_orphan_cleanup): walks the on-disk chain and releases every
    /// orphan (none of them can be referenced yet). Also used after the last FUSE request to
    /// release orphans whose FORGET never came. Returns how many were released.
    /// </summary>
    public int CleanupOrphans(bool loadFromDisk)
    {
        if (IsReadOnly)
        {
            return 0;
        }

        List<uint> chain = loadFromDisk ? Orphans.Load() : Orphans.Snapshot();
        int released = 0;
        foreach (uint ino in chain)
        {
            if (ReleaseIfOrphan(ino))
            {
                released++;
            }
        }

        return released;
    }

    /// <summary>True when <paramref name="inode"/> is an unlinked orphan: it may still be read and written through open files but no name leads to it.</summary>
    public bool IsUnlinkedOrphan(Ext4Inode inode) => inode.LinksCount == 0 && Orphans.TryGetNext(inode.Number, out _) && (inode.Mode & L.S_IFMT) != 0;
}
