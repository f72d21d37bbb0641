using L = Safemount.Ext4.Format.InodeLayout;

namespace Safemount.Ext4;

/// <summary>
/// EXT4_IMMUTABLE_FL and EXT4_APPEND_FL (chattr +i, +a). The kernel's VFS enforces them for ext4
/// from i_flags (S_IMMUTABLE, S_APPEND; fs/namei.c may_create, may_delete, vfs_link, vfs_rename,
/// may_open; fs/attr.c notify_change; fs/open.c do_sys_ftruncate, vfs_fallocate; fs/xattr.c
/// xattr_permission); FUSE does not carry i_flags to the kernel, so the engine applies the same
/// rules, each answering EPERM, before it changes anything.
/// </summary>
public sealed partial class Ext4Volume
{
    private static bool IsImmutable(Ext4Inode inode) => inode.IsImmutable;

    private static bool IsAppendOnly(Ext4Inode inode) => inode.IsAppendOnly;

    /// <summary>may_create: no new name in an immutable directory (inode_permission's MAY_WRITE on it).</summary>
    private static Ext4Errno MayCreateIn(Ext4Inode dir) => IsImmutable(dir) ? Ext4Errno.EPERM : Ext4Errno.None;

    /// <summary>
    /// may_delete: no name leaves an immutable or append-only directory, and no immutable or
    /// append-only inode loses a name (unlink, rmdir, rename of it or over it).
    /// </summary>
    private static Ext4Errno MayDelete(Ext4Inode dir, Ext4Inode victim) =>
        IsImmutable(dir) || IsAppendOnly(dir) || IsImmutable(victim) || IsAppendOnly(victim) ? Ext4Errno.EPERM : Ext4Errno.None;

    /// <summary>
    /// notify_change: nothing changes on an immutable inode; on an append-only one the size
    /// (do_truncate, do_sys_ftruncate), mode, owner and explicitly set times do not, while times
    /// set to now (ATTR_TOUCH) do.
    /// </summary>
    private static Ext4Errno MaySetAttributes(Ext4Inode inode, in Ext4AttributeChange change)
    {
        if (IsImmutable(inode))
        {
            return Ext4Errno.EPERM;
        }

        bool explicitTimes = change.TimesExplicit && (change.Atime is not null || change.Mtime is not null);
        return IsAppendOnly(inode) && (change.Size is not null || change.Mode is not null || change.Uid is not null
            || change.Gid is not null || explicitTimes)
            ? Ext4Errno.EPERM
            : Ext4Errno.None;
    }

    /// <summary>
    /// Data changes of regular file <paramref name="inode"/>: none when immutable
    /// (ext4_write_checks, vfs_fallocate); when append-only only those that
    /// <paramref name="appendOnlyAllowed"/> says keep the existing bytes (O_APPEND writes, plain
    /// and KEEP_SIZE fallocate), never a truncate.
    /// </summary>
    private static Ext4Errno MayChangeData(Ext4Inode inode, bool appendOnlyAllowed) =>
        IsImmutable(inode) || (IsAppendOnly(inode) && !appendOnlyAllowed) ? Ext4Errno.EPERM : Ext4Errno.None;

    /// <summary>
    /// A write to an append-only file (which only an O_APPEND open reaches): the kernel writes
    /// at EOF, but under the writeback cache the page writeback carries whole pages, whose bytes
    /// before EOF are the file's own as the page cache read them. It is refused (EPERM) only when
    /// it would change a byte before <paramref name="size"/>.
    /// </summary>
    private Ext4Errno AppendOnlyWriteKeepsData(Ext4Inode inode, long size, long offset, ReadOnlySpan<byte> data)
    {
        if (offset >= size || data.IsEmpty)
        {
            return Ext4Errno.None;
        }

        int overlap = (int)Math.Min(data.Length, size - offset);
        byte[] stored = new byte[overlap];
        int got = FileData.Read(inode, offset, stored);
        return got == overlap && data[..overlap].SequenceEqual(stored) ? Ext4Errno.None : Ext4Errno.EPERM;
    }

    /// <summary>
    /// ext4_ioctl_check_immutable: while an inode is and stays immutable, no other flag changes
    /// (the VFS has already required CAP_LINUX_IMMUTABLE to set or clear IMMUTABLE or APPEND).
    /// </summary>
    private static Ext4Errno MayChangeFlags(uint oldFlags, uint newFlags) =>
        (oldFlags & newFlags & L.EXT4_IMMUTABLE_FL) != 0 && (oldFlags & ~L.EXT4_IMMUTABLE_FL) != (newFlags & ~L.EXT4_IMMUTABLE_FL)
            ? Ext4Errno.EPERM
            : Ext4Errno.None;

    /// <summary>
    /// vfs_rename's immutable/append-only checks: may_delete of the source from its directory,
    /// may_create in the new directory or may_delete of the target there, and MAY_WRITE on a
    /// directory that changes parent (its ".." changes; for an exchange, on both).
    /// </summary>
    private static Ext4Errno MayRename(Ext4Inode oldDir, Ext4Inode newDir, Ext4Inode source, Ext4Inode? target, bool exchange)
    {
        var err = MayDelete(oldDir, source);
        if (err == Ext4Errno.None)
        {
            err = target == null ? MayCreateIn(newDir) : MayDelete(newDir, target);
        }

        if (err == Ext4Errno.None && oldDir.Number != newDir.Number
            && ((source.IsDirectory && IsImmutable(source)) || (exchange && target!.IsDirectory && IsImmutable(target))))
        {
            err = Ext4Errno.EPERM;
        }

        return err;
    }
}
