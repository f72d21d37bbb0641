using L = Safemount.Ext4.Format.InodeLayout;

namespace Safemount.Ext4;

/// <summary>
/// The directory entry file_type byte (fs/ext4/ext4.h EXT4_FT_*, filled only with the filetype
/// feature) and its mapping from i_mode (fs_umode_to_ftype).
/// </summary>
internal static class FileTypes
{
    public const byte EXT4_FT_UNKNOWN = 0;
    public const byte EXT4_FT_REG_FILE = 1;
    public const byte EXT4_FT_DIR = 2;
    public const byte EXT4_FT_CHRDEV = 3;
    public const byte EXT4_FT_BLKDEV = 4;
    public const byte EXT4_FT_FIFO = 5;
    public const byte EXT4_FT_SOCK = 6;
    public const byte EXT4_FT_SYMLINK = 7;

    /// <summary>The EXT4_FT_* of an i_mode; EXT4_FT_UNKNOWN for a type that has none.</summary>
    public static byte FromMode(ushort mode) => (mode & L.S_IFMT) switch
    {
        L.S_IFREG => EXT4_FT_REG_FILE,
        L.S_IFDIR => EXT4_FT_DIR,
        L.S_IFCHR => EXT4_FT_CHRDEV,
        L.S_IFBLK => EXT4_FT_BLKDEV,
        L.S_IFIFO => EXT4_FT_FIFO,
        L.S_IFSOCK => EXT4_FT_SOCK,
        L.S_IFLNK => EXT4_FT_SYMLINK,
        _ => EXT4_FT_UNKNOWN,
    };
}
