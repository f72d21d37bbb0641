namespace Safemount.Shared.Interop;

/// <summary>ioctl request numbers used by both processes (computed from the _IO/_IOR macros).</summary>
public static class IoctlNumbers
{
    /// <summary>BLKROGET = _IO(0x12, 94): int, nonzero when the block device is read-only.</summary>
    public const ulong BLKROGET = 0x125E;

    /// <summary>BLKSSZGET = _IO(0x12, 104): int, logical sector size in bytes.</summary>
    public const ulong BLKSSZGET = 0x1268;

    /// <summary>BLKGETSIZE64 = _IOR(0x12, 114, size_t): u64, device size in bytes.</summary>
    public const ulong BLKGETSIZE64 = 0x80081272;

    /// <summary>FUSE_DEV_IOC_SYNC_INIT = _IO(229, 3): mount() sends INIT and waits for the reply (6.18).</summary>
    public const ulong FUSE_DEV_IOC_SYNC_INIT = 0xE503;

    /// <summary>FUSE_DEV_IOC_BACKING_OPEN = _IOW(229, 1, struct fuse_backing_map): registers a
    /// backing file (passthrough) or, with FUSE_BACKING_TYPE_IOMAP, a block device (fuse-iomap
    /// v7); returns the backing id (FUSE-PROTOCOL.md §1.6, §2.6).</summary>
    public const ulong FUSE_DEV_IOC_BACKING_OPEN = 0x4010E501;

    /// <summary>FUSE_DEV_IOC_IOMAP_SUPPORT = _IOR(229, 99, struct fuse_iomap_support) (fuse-iomap
    /// v7, §2.6): which iomap features the kernel has; ENOTTY on mainline.</summary>
    public const ulong FUSE_DEV_IOC_IOMAP_SUPPORT = 0x8010E563;

    /// <summary>FUSE_DEV_IOC_ADD_IOMAP = _IO(229, 101) (fuse-iomap v7, §2.6): before mount, opts
    /// this fd's future connection into iomap (needs enable_iomap and CAP_SYS_RAWIO, else EPERM).</summary>
    public const ulong FUSE_DEV_IOC_ADD_IOMAP = 0xE565;

    /// <summary>FUSE_DEV_IOC_IOMAP_SET_BLOCKSIZE = _IOW(229, 102, struct fuse_iomap_backing_info)
    /// (fuse-iomap v7 only, §2.6): set_blocksize() of a registered block device.</summary>
    public const ulong FUSE_DEV_IOC_IOMAP_SET_BLOCKSIZE = 0x4008E566;
}
