namespace Safemount.Ext4;

/// <summary>
/// Expected outcomes of engine operations, returned rather than thrown (STYLE rule 11). The
/// values are the Linux errno numbers (asm-generic/errno-base.h, errno.h) so a caller can
/// hand them on unchanged; None is success. Corruption stays an exception
/// (<see cref="Ext4CorruptionException"/>, <see cref="Ext4ChecksumException"/>).
/// </summary>
public enum Ext4Errno
{
    None = 0,
    EPERM = 1,
    ENOENT = 2,
    ENXIO = 6,
    E2BIG = 7,
    EACCES = 13,
    EEXIST = 17,
    EXDEV = 18,
    ENOTDIR = 20,
    EISDIR = 21,
    EINVAL = 22,
    EFBIG = 27,
    ENOSPC = 28,
    EROFS = 30,
    EMLINK = 31,
    ERANGE = 34,
    ENAMETOOLONG = 36,
    ENOTEMPTY = 39,
    ENODATA = 61,
    EOPNOTSUPP = 95,
}
