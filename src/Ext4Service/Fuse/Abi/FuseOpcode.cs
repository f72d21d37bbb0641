namespace Safemount.Fuse.Abi;

/// <summary>enum fuse_opcode (fuse_kernel.h, protocol 7.45; 4089..4095 from the fuse-iomap v7
/// uapi, minor 99, FUSE-PROTOCOL.md §2.3).</summary>
internal enum FuseOpcode : uint
{
    FUSE_LOOKUP = 1,
    FUSE_FORGET = 2,
    FUSE_GETATTR = 3,
    FUSE_SETATTR = 4,
    FUSE_READLINK = 5,
    FUSE_SYMLINK = 6,
    FUSE_MKNOD = 8,
    FUSE_MKDIR = 9,
    FUSE_UNLINK = 10,
    FUSE_RMDIR = 11,
    FUSE_RENAME = 12,
    FUSE_LINK = 13,
    FUSE_OPEN = 14,
    FUSE_READ = 15,
    FUSE_WRITE = 16,
    FUSE_STATFS = 17,
    FUSE_RELEASE = 18,
    FUSE_FSYNC = 20,
    FUSE_SETXATTR = 21,
    FUSE_GETXATTR = 22,
    FUSE_LISTXATTR = 23,
    FUSE_REMOVEXATTR = 24,
    FUSE_FLUSH = 25,
    FUSE_INIT = 26,
    FUSE_OPENDIR = 27,
    FUSE_READDIR = 28,
    FUSE_RELEASEDIR = 29,
    FUSE_FSYNCDIR = 30,
    FUSE_GETLK = 31,
    FUSE_SETLK = 32,
    FUSE_SETLKW = 33,
    FUSE_ACCESS = 34,
    FUSE_CREATE = 35,
    FUSE_INTERRUPT = 36,
    FUSE_BMAP = 37,
    FUSE_DESTROY = 38,
    FUSE_IOCTL = 39,
    FUSE_POLL = 40,
    FUSE_NOTIFY_REPLY = 41,
    FUSE_BATCH_FORGET = 42,
    FUSE_FALLOCATE = 43,
    FUSE_READDIRPLUS = 44,
    FUSE_RENAME2 = 45,
    FUSE_LSEEK = 46,
    FUSE_COPY_FILE_RANGE = 47,
    FUSE_SETUPMAPPING = 48,
    FUSE_REMOVEMAPPING = 49,
    FUSE_SYNCFS = 50,
    FUSE_TMPFILE = 51,
    FUSE_STATX = 52,
    FUSE_COPY_FILE_RANGE_64 = 53,

    /// <summary>fuse-iomap v7: second stage of a freeze; fuse_freezefs_in, no reply payload.</summary>
    FUSE_FREEZE_FS = 4089,

    /// <summary>fuse-iomap v7: thaw; no body, no reply payload.</summary>
    FUSE_UNFREEZE_FS = 4090,

    /// <summary>fuse-iomap v7: super_operations->shutdown; fuse_shutdownfs_in, no reply payload.</summary>
    FUSE_SHUTDOWN_FS = 4091,

    /// <summary>fuse-iomap v7: nodeid 0, fuse_iomap_config_in → fuse_iomap_config_out.</summary>
    FUSE_IOMAP_CONFIG = 4092,

    /// <summary>fuse-iomap v7: fuse_iomap_ioend_in → fuse_iomap_ioend_out.</summary>
    FUSE_IOMAP_IOEND = 4093,

    /// <summary>fuse-iomap v7: fuse_iomap_begin_in → fuse_iomap_begin_out.</summary>
    FUSE_IOMAP_BEGIN = 4094,

    /// <summary>fuse-iomap v7: fuse_iomap_end_in, no reply payload.</summary>
    FUSE_IOMAP_END = 4095,
}
