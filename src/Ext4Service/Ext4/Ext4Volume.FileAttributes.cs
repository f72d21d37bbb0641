using Safemount.Ext4.Format;
using L = Safemount.Ext4.Format.InodeLayout;
using static Safemount.Ext4.Format.LittleEndian;

namespace Safemount.Ext4;

/// <summary>
/// The inode attributes FS_IOC_GETFLAGS and FS_IOC_FSGETXATTR show (kernel fs/ext4/ioctl.c
/// ext4_fileattr_get; ext4.h EXT4_FL_USER_VISIBLE; inode.c __ext4_iget for i_projid).
/// </summary>
public sealed partial class Ext4Volume
{
    /// <summary>
    /// EXT4_FL_USER_VISIBLE (Linux 6.x): the user-modifiable flags (secrm, unrm, compr, sync,
    /// immutable, append, nodump, noatime, journal_data, notail, dirsync, topdir, extents,
    /// eofblocks, dax, projinherit, casefold) plus dirty, comprblk, nocompr, encrypt, index,
    /// verity and inline_data.
    /// </summary>
    public const uint EXT4_FL_USER_VISIBLE = 0x725BDFFF;

    /// <summary>EXT4_PROJINHERIT_FL (== FS_PROJINHERIT_FL).</summary>
    private const uint EXT4_PROJINHERIT_FL = 0x20000000;

    /// <summary>True when the file system has the project RO_COMPAT feature (project ids are kept).</summary>
    public bool HasProjectIds => Sb.HasRoCompat(Ext4Features.RO_COMPAT_PROJECT);

    /// <summary>
    /// i_flags as FS_IOC_GETFLAGS reports them: masked to <see cref="EXT4_FL_USER_VISIBLE"/>,
    /// and without PROJINHERIT on regular files (ext4_fileattr_get).
    /// </summary>
    public static uint UserVisibleFlags(Ext4Inode inode)
    {
        ArgumentNullException.ThrowIfNull(inode);
        uint flags = inode.Flags & EXT4_FL_USER_VISIBLE;
        if (inode.IsRegular)
        {
            flags &= ~EXT4_PROJINHERIT_FL;
        }

        return flags;
    }

    /// <summary>
    /// i_projid when the project feature is on and the field lies inside i_extra_isize
    /// (EXT4_FITS_IN_INODE); otherwise EXT4_DEF_PROJID, 0.
    /// </summary>
    public uint ProjectId(Ext4Inode inode)
    {
        ArgumentNullException.ThrowIfNull(inode);
        if (!HasProjectIds || InodeSize <= L.GoodOldInodeSize
            || L.i_projid + 4 > L.GoodOldInodeSize + inode.ExtraIsize)
        {
            return 0;
        }

        return U32(inode.Raw, L.i_projid);
    }
}
