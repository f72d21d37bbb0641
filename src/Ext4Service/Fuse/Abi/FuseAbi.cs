namespace Safemount.Fuse.Abi;

/// <summary>Protocol constants of fuse_kernel.h (7.45) and the named limits this server checks
/// every kernel-supplied length against.</summary>
internal static class FuseAbi
{
    /// <summary>FUSE_KERNEL_VERSION: the only major version spoken.</summary>
    public const uint FUSE_KERNEL_VERSION = 7;

    /// <summary>FUSE_KERNEL_MINOR_VERSION: the newest minor this server implements.</summary>
    public const uint FUSE_KERNEL_MINOR_VERSION = 45;

    /// <summary>FUSE_ROOT_ID: node id of the mount's root directory.</summary>
    public const ulong FUSE_ROOT_ID = 1;

    /// <summary>FUSE_MIN_READ_BUFFER: the kernel refuses smaller read() buffers with EINVAL.</summary>
    public const int FUSE_MIN_READ_BUFFER = 8192;

    /// <summary>FUSE_COMPAT_INIT_OUT_SIZE: INIT reply size for kernel minor &lt; 5.</summary>
    public const int FUSE_COMPAT_INIT_OUT_SIZE = 8;

    /// <summary>FUSE_COMPAT_22_INIT_OUT_SIZE: INIT reply size for kernel minor &lt; 23.</summary>
    public const int FUSE_COMPAT_22_INIT_OUT_SIZE = 24;

    /// <summary>fuse_init_in before 7.36: major, minor, max_readahead, flags.</summary>
    public const int FUSE_COMPAT_INIT_IN_SIZE = 16;

    /// <summary>FUSE_NAME_OFFSET: offset of the name in fuse_dirent.</summary>
    public const int FUSE_NAME_OFFSET = 24;

    /// <summary>FUSE_NAME_OFFSET_DIRENTPLUS: offset of the name in fuse_direntplus
    /// (fuse_entry_out 128 + fuse_dirent 24).</summary>
    public const int FUSE_NAME_OFFSET_DIRENTPLUS = 152;

    /// <summary>Bytes of page a request's size is counted in (PAGE_SIZE on x86_64/arm64 4K).</summary>
    public const int PageSize = 4096;

    /// <summary>Longest name accepted in a request or directory record: PATH_MAX - 1 (the kernel
    /// allows names past NAME_MAX 255 with max_pages &gt; 1 since 6.15).</summary>
    public const int NameMax = 4095;

    /// <summary>FUSE_GETATTR_FH: getattr_in.fh / statx_in.fh is valid.</summary>
    public const uint FUSE_GETATTR_FH = 1U << 0;

    /// <summary>FUSE_FSYNC_FDATASYNC: sync data only.</summary>
    public const uint FUSE_FSYNC_FDATASYNC = 1U << 0;

    /// <summary>FOPEN_DIRECT_IO: bypass the page cache for this open file.</summary>
    public const uint FOPEN_DIRECT_IO = 1U << 0;

    /// <summary>FOPEN_KEEP_CACHE: do not drop the page cache on open.</summary>
    public const uint FOPEN_KEEP_CACHE = 1U << 1;

    /// <summary>FOPEN_CACHE_DIR: the kernel may cache readdir output.</summary>
    public const uint FOPEN_CACHE_DIR = 1U << 3;

    /// <summary>STATX_BASIC_STATS: type, mode, nlink, uid, gid, atime, mtime, ctime, ino, size, blocks.</summary>
    public const uint STATX_BASIC_STATS = 0x7FF;

    /// <summary>STATX_BTIME: stx_btime is valid.</summary>
    public const uint STATX_BTIME = 0x800;

    /// <summary>FUSE_COMPAT_SETXATTR_IN_SIZE: fuse_setxattr_in without FUSE_SETXATTR_EXT
    /// (size and flags only).</summary>
    public const int FUSE_COMPAT_SETXATTR_IN_SIZE = 8;

    /// <summary>FUSE_OPEN_KILL_SUIDGID (fuse_open_in.open_flags, fuse_create_in.open_flags):
    /// clear suid/sgid as the open truncates (HANDLE_KILLPRIV_V2).</summary>
    public const uint FUSE_OPEN_KILL_SUIDGID = 1U << 0;

    /// <summary>FUSE_EXPIRE_ONLY (fuse_notify_inval_entry_out.flags): expire the dentry instead
    /// of dropping it.</summary>
    public const uint FUSE_EXPIRE_ONLY = 1U << 0;

    /// <summary>XATTR_SIZE_MAX (include/uapi/linux/limits.h): the largest xattr value the VFS
    /// passes down, bytes.</summary>
    public const uint XATTR_SIZE_MAX = 65536;

    /// <summary>O_TRUNC (asm-generic/fcntl.h): with FUSE_ATOMIC_O_TRUNC, OPEN carries it and the
    /// server truncates.</summary>
    public const uint O_TRUNC = 0x200;

    /// <summary>FUSE_KERNEL_MINOR_VERSION of every fuse-iomap kernel ("magic minor to make
    /// experimental code obvious", FUSE-PROTOCOL.md §2.1). Only with it is bit 43 FUSE_IOMAP.</summary>
    public const uint FUSE_IOMAP_MINOR_VERSION = 99;

    /// <summary>FUSE_ATTR_EXCLUSIVE (fuse_attr.flags, v7): local-fs-style inode; needed for IOMAP.</summary>
    public const uint FUSE_ATTR_EXCLUSIVE = 1U << 2;

    /// <summary>FUSE_ATTR_IOMAP (fuse_attr.flags, v7): file I/O goes through iomap.</summary>
    public const uint FUSE_ATTR_IOMAP = 1U << 3;

    /// <summary>FUSE_IOMAP_NULL_ADDR: addr of HOLE, DELALLOC, INLINE and PURE_OVERWRITE halves.</summary>
    public const ulong FUSE_IOMAP_NULL_ADDR = ulong.MaxValue;

    /// <summary>FUSE_IOMAP_DEV_NULL: dev of halves with no device.</summary>
    public const uint FUSE_IOMAP_DEV_NULL = 0;

    /// <summary>FUSE_IOMAP_INVAL_TO_EOF: fuse_range.length meaning "to the end of the file".</summary>
    public const ulong FUSE_IOMAP_INVAL_TO_EOF = ulong.MaxValue;

    /// <summary>FUSE_IOMAP_CACHE_DEFAULT_MAXBYTES: default per-inode mapping-cache limit, bytes.</summary>
    public const uint FUSE_IOMAP_CACHE_DEFAULT_MAXBYTES = 256 * 1024;

    /// <summary>FUSE_IOMAP_CACHE_MAX_MAXBYTES: largest per-inode mapping-cache limit, bytes.</summary>
    public const uint FUSE_IOMAP_CACHE_MAX_MAXBYTES = 2 * 1024 * 1024;
}
