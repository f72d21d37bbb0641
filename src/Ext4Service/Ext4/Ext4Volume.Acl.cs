using L = Safemount.Ext4.Format.InodeLayout;
using X = Safemount.Ext4.Format.XattrLayout;

namespace Safemount.Ext4;

/// <summary>
/// POSIX ACLs around inode creation and chmod (kernel: ext4_init_acl / posix_acl_create,
/// posix_acl_chmod). The umask is applied here, not by the caller, because a parent's default
/// ACL replaces it (FUSE_DONT_MASK hands it over unapplied).
/// </summary>
public sealed partial class Ext4Volume
{
    private const string AclAccess = "system.posix_acl_access";
    private const string AclDefault = "system.posix_acl_default";

    /// <summary>
    /// ext4_init_acl for the new inode <paramref name="r"/> in directory <paramref name="parent"/>:
    /// without a default ACL the umask clears mode bits; with one, the mode is masked by it and the
    /// new inode inherits it as its access ACL (unless equivalent to the mode) and, for a
    /// directory, as its default ACL. Symlinks get neither. Writes the record.
    /// </summary>
    private Ext4Errno InitAcl(Ext4Transaction tx, uint parent, InodeRecord r, uint umask)
    {
        ushort type = (ushort)(r.Mode & L.S_IFMT);
        if (type == L.S_IFLNK)
        {
            return Ext4Errno.None;
        }

        byte[]? inherited = Sb.HasCompat(Format.Ext4Features.COMPAT_EXT_ATTR) ? GetXattr(ReadInode(parent), AclDefault) : null;
        if (inherited is null)
        {
            r.Mode = (ushort)(r.Mode & ~(umask & 0x1FF));
            return Ext4Errno.None;
        }

        var err = PosixAcl.FromXattr(inherited, out var acl);
        if (err != Ext4Errno.None)
        {
            throw new Ext4CorruptionException($"directory inode {parent}: default ACL cannot be parsed ({err})");
        }

        var access = new List<PosixAcl.AclEntry>(acl);
        ushort mode = r.Mode;
        bool store = PosixAcl.CreateMasq(access, ref mode);
        r.Mode = mode;
        var rights = RightsOf(r.Uid, r.Gid);
        if (type == L.S_IFDIR)
        {
            err = XattrWriter.Set(tx, WriteInode(tx, r), r, X.EXT4_XATTR_INDEX_POSIX_ACL_DEFAULT, [], PosixAcl.ToDisk(acl), XattrSetFlags.None, rights, out _);
            if (err != Ext4Errno.None)
            {
                return err;
            }
        }

        if (store)
        {
            err = XattrWriter.Set(tx, WriteInode(tx, r), r, X.EXT4_XATTR_INDEX_POSIX_ACL_ACCESS, [], PosixAcl.ToDisk(access), XattrSetFlags.None, rights, out _);
            if (err != Ext4Errno.None)
            {
                return err;
            }
        }

        WriteInode(tx, r);
        return Ext4Errno.None;
    }

    /// <summary>posix_acl_chmod: the access ACL of <paramref name="inode"/> (if any) follows the new mode of <paramref name="r"/>.</summary>
    private Ext4Errno ChmodAcl(Ext4Transaction tx, Ext4Inode inode, InodeRecord r)
    {
        byte[]? current = Sb.HasCompat(Format.Ext4Features.COMPAT_EXT_ATTR) ? GetXattr(inode, AclAccess) : null;
        if (current is null)
        {
            return Ext4Errno.None;
        }

        var err = PosixAcl.FromXattr(current, out var acl);
        if (err != Ext4Errno.None)
        {
            throw new Ext4CorruptionException($"inode {inode.Number}: access ACL cannot be parsed ({err})");
        }

        PosixAcl.Chmod(acl, r.Mode);
        return XattrWriter.Set(tx, inode, r, X.EXT4_XATTR_INDEX_POSIX_ACL_ACCESS, [], PosixAcl.ToDisk(acl), XattrSetFlags.None, RightsOf(r.Uid, r.Gid), out _);
    }
}
