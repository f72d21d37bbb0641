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
}
