namespace Safemount.Fuse;

/// <summary>fuse_write_in.write_flags (fuse_kernel.h, protocol 7.45).</summary>
[Flags]
public enum FuseWriteFlags : uint
{
    None = 0,

    /// <summary>FUSE_WRITE_CACHE: page-cache writeback (FUSE_WRITEBACK_CACHE); the fh may belong
    /// to any open of the inode, and no caller credentials apply.</summary>
    FUSE_WRITE_CACHE = 1U << 0,

    /// <summary>FUSE_WRITE_LOCKOWNER: lock_owner is valid.</summary>
    FUSE_WRITE_LOCKOWNER = 1U << 1,

    /// <summary>FUSE_WRITE_KILL_SUIDGID: clear suid/sgid (HANDLE_KILLPRIV_V2).</summary>
    FUSE_WRITE_KILL_SUIDGID = 1U << 2,
}
