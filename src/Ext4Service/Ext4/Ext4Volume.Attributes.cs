using L = Safemount.Ext4.Format.InodeLayout;

namespace Safemount.Ext4;

/// <summary>setattr (kernel: ext4_setattr, setattr_copy): mode, owner, size and times of one inode.</summary>
public sealed partial class Ext4Volume
{
    private const ushort S_ISUID = 0x800;
    private const ushort S_IXGRP = 0x008;
    private const ushort PermissionBits = 0xFFF; // 07777

    /// <summary>
    /// Applies <paramref name="change"/> to inode <paramref name="ino"/> under its lock in one
    /// handle. A size (regular files only; EISDIR for a directory, EINVAL otherwise) frees or
    /// extends as truncate does and stamps mtime, even when the size stays, as truncate(2) does;
    /// explicit times then apply; ctime is the explicit one or now. Returns the inode as written.
    /// </summary>
    public Ext4Errno SetAttributes(uint ino, in Ext4AttributeChange change, out Ext4Inode? result)
    {
        result = null;
        if (change.Size is < 0)
        {
            return Ext4Errno.EINVAL;
        }

        using var held = InodeLocks.Acquire(ino, exclusive: true);
        using var tx = Begin();
        var inode = ReadInode(ino);
        if ((inode.Mode & L.S_IFMT) == 0 || (inode.LinksCount == 0 && !Orphans.TryGetNext(ino, out _)))
        {
            return Ext4Errno.ENOENT;
        }

        var denied = MaySetAttributes(inode, change);
        if (denied != Ext4Errno.None)
        {
            return denied;
        }

        var r = InodeRecord.From(this, inode);
        var (s, ns) = Now();
        if (change.Size is long size)
        {
            if (!inode.IsRegular)
            {
                return inode.IsDirectory ? Ext4Errno.EISDIR : Ext4Errno.EINVAL;
            }

            if (WriteRefusal is not null)
            {
                return Ext4Errno.EROFS;
            }

            // As OpenRegular: an inline-data file moves to a block before its size is edited.
            var err = OpenRegular(tx, ino, RightsOf(r.Uid, r.Gid), out r, out _);
            if (err != Ext4Errno.None)
            {
                return err;
            }

            // The kernel truncates even to the same size: preallocated blocks past EOF go.
            err = FileData.SetSize(tx, r, size);
            if (err != Ext4Errno.None)
            {
                return err;
            }

            // truncate(2) stamps mtime even when the size stays (do_truncate passes ATTR_MTIME);
            // an explicit mtime below wins.
            r.SetMtime(s, ns);
        }

        if (change.Mode is ushort mode)
        {
            r.Mode = (ushort)((inode.Mode & L.S_IFMT) | (mode & PermissionBits));
            var aclErr = ChmodAcl(tx, inode, r);
            if (aclErr != Ext4Errno.None)
            {
                return aclErr;
            }
        }

        if (change.Uid is uint uid)
        {
            r.Uid = uid;
        }

        if (change.Gid is uint gid)
        {
            r.Gid = gid;
        }

        if (change.KillSuidGid)
        {
            ushort m = r.Mode;
            m &= unchecked((ushort)~S_ISUID);
            if ((m & S_IXGRP) != 0)
            {
                m &= unchecked((ushort)~S_ISGID);
            }

            r.Mode = m;
        }

        if (change.Atime is var (aSec, aNs))
        {
            r.SetAtime(aSec, aNs);
        }

        if (change.Mtime is var (mSec, mNs))
        {
            r.SetMtime(mSec, mNs);
        }

        var (cSec, cNs) = change.Ctime ?? (s, ns);
        r.SetCtime(cSec, cNs);

        // ext4_setattr: i_version + 1, except for a size change to the size the file has. An
        // explicit ctime with at most an mtime is the FUSE writeback cache handing back the times
        // it owns (fuse_flush_times, after a write, link, unlink, rename or xattr change that
        // already counted where it happened; utimensat cannot set ctime): no change of its own.
        bool timesFlush = change.Ctime is not null && change.Atime is null && change.Mode is null && change.Uid is null
            && change.Gid is null && change.Size is null && !change.KillSuidGid;
        if (!timesFlush && (change.Size is not long same || same != inode.Size))
        {
            r.Version++;
        }

        result = WriteInode(tx, r);
        return Ext4Errno.None;
    }
}
