namespace Safemount.Fuse;

/// <summary>FATTR_* bits of fuse_setattr_in.valid (fuse_kernel.h, protocol 7.45): which
/// fields of a <see cref="FuseSetAttr"/> the kernel asks to apply.</summary>
[Flags]
public enum FuseSetAttrValid : uint
{
    None = 0,

    /// <summary>FATTR_MODE: chmod.</summary>
    FATTR_MODE = 1U << 0,

    /// <summary>FATTR_UID: chown owner.</summary>
    FATTR_UID = 1U << 1,

    /// <summary>FATTR_GID: chown group.</summary>
    FATTR_GID = 1U << 2,

    /// <summary>FATTR_SIZE: truncate.</summary>
    FATTR_SIZE = 1U << 3,

    /// <summary>FATTR_ATIME: set atime to the given value.</summary>
    FATTR_ATIME = 1U << 4,

    /// <summary>FATTR_MTIME: set mtime to the given value.</summary>
    FATTR_MTIME = 1U << 5,

    /// <summary>FATTR_FH: fh is valid (ftruncate, fchmod on an open file).</summary>
    FATTR_FH = 1U << 6,

    /// <summary>FATTR_ATIME_NOW: with FATTR_ATIME, use the current time (UTIME_NOW).</summary>
    FATTR_ATIME_NOW = 1U << 7,

    /// <summary>FATTR_MTIME_NOW: with FATTR_MTIME, use the current time (UTIME_NOW).</summary>
    FATTR_MTIME_NOW = 1U << 8,

    /// <summary>FATTR_LOCKOWNER: lock_owner is valid.</summary>
    FATTR_LOCKOWNER = 1U << 9,

    /// <summary>FATTR_CTIME: set ctime to the given value (writeback cache: the kernel owns it).</summary>
    FATTR_CTIME = 1U << 10,

    /// <summary>FATTR_KILL_SUIDGID: clear suid/sgid as the VFS would (HANDLE_KILLPRIV_V2).</summary>
    FATTR_KILL_SUIDGID = 1U << 11,
}
