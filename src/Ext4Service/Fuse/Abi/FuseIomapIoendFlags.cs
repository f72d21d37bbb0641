namespace Safemount.Fuse.Abi;

/// <summary>FUSE_IOMAP_IOEND_* of fuse_iomap_ioend_in.flags (fuse-iomap v7, FUSE-PROTOCOL.md §2.5).</summary>
[Flags]
public enum FuseIomapIoendFlags : uint
{
    None = 0,

    /// <summary>Out-of-place write (never for ext4).</summary>
    FUSE_IOMAP_IOEND_SHARED = 1U << 0,

    /// <summary>The range was unwritten: convert it to written.</summary>
    FUSE_IOMAP_IOEND_UNWRITTEN = 1U << 1,
    FUSE_IOMAP_IOEND_BOUNDARY = 1U << 2,
    FUSE_IOMAP_IOEND_DIRECT = 1U << 3,

    /// <summary>pos + written passes the kernel's cached on-disk size.</summary>
    FUSE_IOMAP_IOEND_APPEND = 1U << 4,
    FUSE_IOMAP_IOEND_WRITEBACK = 1U << 5,
    FUSE_IOMAP_IOEND_SWAPOFF = 1U << 6,

    /// <summary>Every bit v7 defines.</summary>
    KnownMask = FUSE_IOMAP_IOEND_SHARED | FUSE_IOMAP_IOEND_UNWRITTEN | FUSE_IOMAP_IOEND_BOUNDARY
        | FUSE_IOMAP_IOEND_DIRECT | FUSE_IOMAP_IOEND_APPEND | FUSE_IOMAP_IOEND_WRITEBACK | FUSE_IOMAP_IOEND_SWAPOFF,
}
