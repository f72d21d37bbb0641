namespace Safemount.Ext4;

/// <summary>
/// Expected outcomes of engine operations, returned rather than thrown (STYLE rule 11). The
/// values are the Linux errno numbers (asm-generic/errno-base.h, errno.h) so a caller can
/// hand them on unchanged; None is success. Corruption stays an exception.
/// </summary>
public enum Ext4Errno
{
    None = 0,
    ENOENT = 2,
    ENXIO = 6,
    EISDIR = 21,
    EINVAL = 22,
    EFBIG = 27,
    ENOSPC = 28,
    EROFS = 30,
    EOPNOTSUPP = 95,
}
