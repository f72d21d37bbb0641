namespace Safemount.Fuse.Abi;

/// <summary>
/// FUSE_INIT flag bits as one 64-bit set: bits 0..31 travel in init flags, bits 32..63 in
/// flags2 (only with FUSE_INIT_EXT). fuse_kernel.h lines 396-497; FUSE-PROTOCOL.md §1.2.2.
/// </summary>
[Flags]
internal enum FuseInitFlags : ulong
{
    None = 0,
    FUSE_ASYNC_READ = 1UL << 0,
    FUSE_POSIX_LOCKS = 1UL << 1,
    FUSE_FILE_OPS = 1UL << 2,
    FUSE_ATOMIC_O_TRUNC = 1UL << 3,
    FUSE_EXPORT_SUPPORT = 1UL << 4,
    FUSE_BIG_WRITES = 1UL << 5,
    FUSE_DONT_MASK = 1UL << 6,
    FUSE_SPLICE_WRITE = 1UL << 7,
    FUSE_SPLICE_MOVE = 1UL << 8,
    FUSE_SPLICE_READ = 1UL << 9,
    FUSE_FLOCK_LOCKS = 1UL << 10,
    FUSE_HAS_IOCTL_DIR = 1UL << 11,
    FUSE_AUTO_INVAL_DATA = 1UL << 12,
    FUSE_DO_READDIRPLUS = 1UL << 13,
    FUSE_READDIRPLUS_AUTO = 1UL << 14,
    FUSE_ASYNC_DIO = 1UL << 15,
    FUSE_WRITEBACK_CACHE = 1UL << 16,
    FUSE_NO_OPEN_SUPPORT = 1UL << 17,
    FUSE_PARALLEL_DIROPS = 1UL << 18,
    FUSE_HANDLE_KILLPRIV = 1UL << 19,
    FUSE_POSIX_ACL = 1UL << 20,
    FUSE_ABORT_ERROR = 1UL << 21,
    FUSE_MAX_PAGES = 1UL << 22,
    FUSE_CACHE_SYMLINKS = 1UL << 23,
    FUSE_NO_OPENDIR_SUPPORT = 1UL << 24,
    FUSE_EXPLICIT_INVAL_DATA = 1UL << 25,
    FUSE_MAP_ALIGNMENT = 1UL << 26,
    FUSE_SUBMOUNTS = 1UL << 27,
    FUSE_HANDLE_KILLPRIV_V2 = 1UL << 28,
    FUSE_SETXATTR_EXT = 1UL << 29,
    FUSE_INIT_EXT = 1UL << 30,
    FUSE_INIT_RESERVED = 1UL << 31,
    FUSE_SECURITY_CTX = 1UL << 32,
    FUSE_HAS_INODE_DAX = 1UL << 33,
    FUSE_CREATE_SUPP_GROUP = 1UL << 34,
    FUSE_HAS_EXPIRE_ONLY = 1UL << 35,
    FUSE_DIRECT_IO_ALLOW_MMAP = 1UL << 36,
    FUSE_PASSTHROUGH = 1UL << 37,
    FUSE_NO_EXPORT_SUPPORT = 1UL << 38,
    FUSE_HAS_RESEND = 1UL << 39,
    FUSE_ALLOW_IDMAP = 1UL << 40,
    FUSE_OVER_IO_URING = 1UL << 41,
    FUSE_REQUEST_TIMEOUT = 1UL << 42,

    /// <summary>fuse-iomap v7 (djwong tree, minor 99): offered only on a /dev/fuse fd that had
    /// FUSE_DEV_IOC_ADD_IOMAP before mount (FUSE-PROTOCOL.md §2.2).</summary>
    FUSE_IOMAP = 1UL << 43,
}
