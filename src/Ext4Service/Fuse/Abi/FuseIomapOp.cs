namespace Safemount.Fuse.Abi;

/// <summary>FUSE_IOMAP_OP_* of begin_in/end_in.opflags (fuse-iomap v7, FUSE-PROTOCOL.md §2.5).</summary>
[Flags]
public enum FuseIomapOp : uint
{
    None = 0,
    FUSE_IOMAP_OP_WRITE = 1U << 0,
    FUSE_IOMAP_OP_ZERO = 1U << 1,

    /// <summary>FIEMAP, SEEK_DATA / SEEK_HOLE.</summary>
    FUSE_IOMAP_OP_REPORT = 1U << 2,
    FUSE_IOMAP_OP_FAULT = 1U << 3,
    FUSE_IOMAP_OP_DIRECT = 1U << 4,
    FUSE_IOMAP_OP_NOWAIT = 1U << 5,
    FUSE_IOMAP_OP_OVERWRITE_ONLY = 1U << 6,
    FUSE_IOMAP_OP_UNSHARE = 1U << 7,
    FUSE_IOMAP_OP_DAX = 1U << 8,
    FUSE_IOMAP_OP_ATOMIC = 1U << 9,
    FUSE_IOMAP_OP_DONTCACHE = 1U << 10,
    FUSE_IOMAP_OP_SWAPFILE = 1U << 30,

    /// <summary>Page-cache writeback.</summary>
    FUSE_IOMAP_OP_WRITEBACK = 1U << 31,

    /// <summary>"Is a write" (§2.5): WRITE, ZERO, UNSHARE or WRITEBACK.</summary>
    WriteMask = FUSE_IOMAP_OP_WRITE | FUSE_IOMAP_OP_ZERO | FUSE_IOMAP_OP_UNSHARE | FUSE_IOMAP_OP_WRITEBACK,

    /// <summary>Every bit v7 defines.</summary>
    KnownMask = FUSE_IOMAP_OP_WRITE | FUSE_IOMAP_OP_ZERO | FUSE_IOMAP_OP_REPORT | FUSE_IOMAP_OP_FAULT
        | FUSE_IOMAP_OP_DIRECT | FUSE_IOMAP_OP_NOWAIT | FUSE_IOMAP_OP_OVERWRITE_ONLY | FUSE_IOMAP_OP_UNSHARE
        | FUSE_IOMAP_OP_DAX | FUSE_IOMAP_OP_ATOMIC | FUSE_IOMAP_OP_DONTCACHE | FUSE_IOMAP_OP_SWAPFILE
        | FUSE_IOMAP_OP_WRITEBACK,
}
