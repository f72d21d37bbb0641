using Safemount.Ext4;
using Safemount.Fuse;

namespace Safemount.Ext4Service.Bridge;

/// <summary>Turns an ext4 inode into the attributes FUSE reports, field for field as the kernel's
/// ext4 driver fills struct kstat (ext4_getattr / generic_fillattr).</summary>
internal static class AttrMapper
{
    public static FuseAttr ToAttr(Ext4Inode inode, uint blockSize) => new()
    {
        // The stable on-disk inode number, so st_ino matches the kernel's ext4 mount.
        Ino = inode.Number,
        Size = (ulong)inode.Size,
        Blocks = inode.Blocks512 + InlineDataSectors(inode),
        Atime = inode.AtimeSeconds,
        AtimeNsec = inode.AtimeNanoseconds,
        Mtime = inode.MtimeSeconds,
        MtimeNsec = inode.MtimeNanoseconds,
        Ctime = inode.CtimeSeconds,
        CtimeNsec = inode.CtimeNanoseconds,
        Mode = inode.Mode,
        Nlink = inode.LinksCount,
        Uid = inode.Uid,
        Gid = inode.Gid,
        Rdev = EncodeDev(inode.RdevMajor, inode.RdevMinor),
        // st_blksize of ext4 is the filesystem block size.
        Blksize = blockSize,
        Flags = 0,
    };

    public static FuseStatxExtra ToStatxExtra(Ext4Inode inode) => new()
    {
        HasBtime = inode.HasCrtime,
        Btime = inode.CrtimeSeconds,
        BtimeNsec = inode.CrtimeNanoseconds,
    };

    /// <summary>
    /// ext4_file_getattr (fs/ext4/file.c): a regular file whose data lives in the inode reports
    /// (i_size + 511) / 512 extra sectors, so that tar and rsync do not take it for sparse.
    /// Directories and symlinks go through ext4_getattr, which adds nothing.
    /// </summary>
    public static ulong InlineDataSectors(Ext4Inode inode) =>
        inode.IsRegular && inode.HasInlineData ? ((ulong)inode.Size + 511) >> 9 : 0;

    /// <summary>new_encode_dev (include/linux/kdev_t.h): fuse_attr.rdev is decoded with
    /// new_decode_dev by the kernel.</summary>
    public static uint EncodeDev(uint major, uint minor) =>
        (minor & 0xFF) | ((major & 0xFFF) << 8) | ((minor & ~0xFFu) << 12);

    /// <summary>EXT4_FT_* (ext4.h) → DT_* (dirent.h).</summary>
    public static uint FileTypeToDt(byte fileType) => fileType switch
    {
        1 => 8,   // EXT4_FT_REG_FILE → DT_REG
        2 => 4,   // EXT4_FT_DIR → DT_DIR
        3 => 2,   // EXT4_FT_CHRDEV → DT_CHR
        4 => 6,   // EXT4_FT_BLKDEV → DT_BLK
        5 => 1,   // EXT4_FT_FIFO → DT_FIFO
        6 => 12,  // EXT4_FT_SOCK → DT_SOCK
        7 => 10,  // EXT4_FT_SYMLINK → DT_LNK
        _ => 0,   // EXT4_FT_UNKNOWN → DT_UNKNOWN
    };

    /// <summary>DT_* from the S_IFMT bits of a mode (for directories without the filetype feature).</summary>
    public static uint ModeToDt(uint mode) => (mode >> 12) & 0xF;
}
