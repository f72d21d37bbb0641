using L = Safemount.Ext4.Format.InodeLayout;

namespace Safemount.Ext4;

/// <summary>
/// chattr (kernel: ext4_fileattr_set, ext4_ioctl_setflags). The kernel's VFS has already checked
/// ownership and CAP_LINUX_IMMUTABLE (vfs_fileattr_set) before FUSE passes the ioctl on.
/// </summary>
public sealed partial class Ext4Volume
{
    /// <summary>EXT4_FL_USER_MODIFIABLE: SECRM UNRM COMPR SYNC IMMUTABLE APPEND NODUMP NOATIME
    /// JOURNAL_DATA NOTAIL DIRSYNC TOPDIR EXTENTS EOFBLOCKS(0x400000) DAX PROJINHERIT CASEFOLD.</summary>
    public const uint EXT4_FL_USER_MODIFIABLE = 0x624BC0FF;

    /// <summary>EXT4_FL_XFLAG_VISIBLE: the flags FS_IOC_FSSETXATTR reaches (SYNC IMMUTABLE APPEND NODUMP NOATIME PROJINHERIT).</summary>
    public const uint EXT4_FL_XFLAG_VISIBLE = 0x200000F8;

    /// <summary>
    /// Flags whose change needs work this engine does not do: extent migration, casefolding, DAX.
    /// IMMUTABLE and APPEND are enforced by the engine itself (Ext4Volume.InodeProtection.cs).
    /// </summary>
    private const uint UnchangeableHere = L.EXT4_EXTENTS_FL | L.EXT4_CASEFOLD_FL | 0x02000000 /* EXT4_DAX_FL */;

    /// <summary>
    /// Sets the user-settable flags of <paramref name="ino"/>: the bits of <paramref name="reach"/>
    /// (EXT4_FL_USER_MODIFIABLE for FS_IOC_SETFLAGS, EXT4_FL_XFLAG_VISIBLE for FS_IOC_FSSETXATTR)
    /// take their values from <paramref name="flags"/> after ext4_mask_flags for the file type;
    /// the others stay. EOPNOTSUPP for a change of EXTENTS, CASEFOLD or DAX (see
    /// <see cref="UnchangeableHere"/>); EPERM for another change to an inode that stays immutable.
    /// ctime changes.
    /// </summary>
    public Ext4Errno SetUserFlags(uint ino, uint flags, uint reach, out Ext4Inode? result)
    {
        result = null;
        using var held = InodeLocks.Acquire(ino, exclusive: true);
        using var tx = Begin();
        var inode = ReadInode(ino);
        if ((inode.Mode & L.S_IFMT) == 0)
        {
            return Ext4Errno.ENOENT;
        }

        uint masked = inode.IsDirectory ? flags : inode.IsRegular ? flags & EXT4_REG_FLMASK : flags & EXT4_OTHER_FLMASK;
        uint next = (inode.Flags & ~reach) | (masked & reach);
        if (((next ^ inode.Flags) & UnchangeableHere) != 0)
        {
            return Ext4Errno.EOPNOTSUPP;
        }

        var denied = MayChangeFlags(inode.Flags, next);
        if (denied != Ext4Errno.None)
        {
            return denied;
        }

        var r = InodeRecord.From(this, inode);
        r.Flags = next;
        var (s, ns) = Now();
        r.SetCtime(s, ns);
        r.Version++; // ext4_ioctl_setflags: inode_inc_iversion
        result = WriteInode(tx, r);
        return Ext4Errno.None;
    }
}
