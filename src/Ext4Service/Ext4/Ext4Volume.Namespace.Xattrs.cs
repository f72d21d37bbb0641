using Safemount.Ext4.Format;
using X = Safemount.Ext4.Format.XattrLayout;

namespace Safemount.Ext4;

/// <summary>
/// setxattr(2) and removexattr(2) (kernel: fs/xattr.c, fs/ext4/xattr*.c, fs/ext4/acl.c
/// ext4_set_acl). Takes the inode's lock exclusive, then a handle. POSIX ACLs arrive in the
/// userspace form and are stored in ext4's; an access ACL also sets the permission bits
/// (posix_acl_update_mode), and one the mode alone expresses is not stored at all.
/// </summary>
public sealed partial class Ext4Volume
{
    private const ushort S_ISGID_MODE = 0x400;

    /// <summary>
    /// Sets xattr <paramref name="fullName"/>. E2BIG past XATTR_SIZE_MAX, ERANGE for a name past
    /// 255 bytes, EOPNOTSUPP for a namespace ext4 has no handler for, EINVAL for a malformed
    /// ACL, EACCES for a default ACL on a non-directory, EEXIST/ENODATA for
    /// XATTR_CREATE/XATTR_REPLACE, ENOSPC when it fits neither in the inode nor in a block.
    /// <paramref name="killSgid"/>: clear S_ISGID with an access ACL (the caller is not in the
    /// owning group, FUSE_SETXATTR_ACL_KILL_SGID).
    /// </summary>
    public Ext4Errno SetXattr(uint ino, string fullName, ReadOnlySpan<byte> value, XattrSetFlags flags,
        uint callerUid = 0, uint callerGid = 0, bool killSgid = false)
    {
        ArgumentNullException.ThrowIfNull(fullName);
        if (value.Length > XattrName.XATTR_SIZE_MAX)
        {
            return Ext4Errno.E2BIG;
        }

        return ChangeXattr(ino, fullName, value.ToArray(), flags, callerUid, callerGid, killSgid);
    }

    /// <summary>Removes xattr <paramref name="fullName"/> (ENODATA when absent).</summary>
    public Ext4Errno RemoveXattr(uint ino, string fullName)
    {
        ArgumentNullException.ThrowIfNull(fullName);
        return ChangeXattr(ino, fullName, null, XattrSetFlags.Replace, 0, 0, killSgid: false);
    }

    private Ext4Errno ChangeXattr(uint ino, string fullName, byte[]? value, XattrSetFlags flags, uint uid, uint gid, bool killSgid)
    {
        if (WriteRefusal is not null)
        {
            return Ext4Errno.EROFS;
        }

        var err = XattrName.TryParse(fullName, out byte index, out byte[] name);
        if (err != Ext4Errno.None)
        {
            return err;
        }

        using var held = InodeLocks.Acquire(ino, exclusive: true);
        using var tx = Begin();
        var inode = ReadInode(ino);
        if (!inode.MayBeNamed)
        {
            return Ext4Errno.ENOENT;
        }

        // xattr_permission: no xattr of an immutable or append-only inode changes.
        if (IsImmutable(inode) || IsAppendOnly(inode))
        {
            return Ext4Errno.EPERM;
        }

        var r = InodeRecord.From(this, inode);
        bool modeChanged = false;
        if (value != null && index is X.EXT4_XATTR_INDEX_POSIX_ACL_ACCESS or X.EXT4_XATTR_INDEX_POSIX_ACL_DEFAULT)
        {
            err = PosixAcl.FromXattr(value, out var acl);
            if (err != Ext4Errno.None)
            {
                return err;
            }

            if (index == X.EXT4_XATTR_INDEX_POSIX_ACL_DEFAULT && !inode.IsDirectory)
            {
                return acl.Count == 0 ? Ext4Errno.None : Ext4Errno.EACCES;
            }

            bool drop = acl.Count == 0;
            if (index == X.EXT4_XATTR_INDEX_POSIX_ACL_ACCESS && acl.Count > 0)
            {
                ushort mode = r.Mode;
                drop = PosixAcl.EquivMode(acl, ref mode);
                if (killSgid)
                {
                    mode = (ushort)(mode & ~S_ISGID_MODE);
                }

                modeChanged = mode != r.Mode;
                r.Mode = mode;
            }

            value = drop ? null : PosixAcl.ToDisk(acl);
            if (drop)
            {
                // ext4_set_acl(NULL): removing an absent ACL is not an error.
                flags &= ~XattrSetFlags.Replace;
            }
        }

        err = XattrWriter.Set(tx, inode, r, index, name, value, flags, RightsOf(uid, gid), out bool changed);
        if (err == Ext4Errno.ENODATA && value == null && (flags & XattrSetFlags.Replace) == 0)
        {
            err = Ext4Errno.None;
        }

        if (err != Ext4Errno.None)
        {
            return err;
        }

        if (changed || modeChanged)
        {
            // ext4_xattr_set_handle: ctime and i_version + 1 when something changed.
            var (s, ns) = Now();
            r.SetCtime(s, ns);
            r.Version++;
            WriteInode(tx, r);
        }

        return Ext4Errno.None;
    }
}
