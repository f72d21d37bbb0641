namespace Safemount.Fuse.Abi;

/// <summary>FUSE_IOMAP_F_* of fuse_iomap_io.flags (fuse-iomap v7, FUSE-PROTOCOL.md §2.5). Bits
/// 0..7 may appear in replies; SIZE_CHANGED and STALE only in END requests.</summary>
[Flags]
public enum FuseIomapFlags : ushort
{
    None = 0,
    FUSE_IOMAP_F_NEW = 1 << 0,
    FUSE_IOMAP_F_DIRTY = 1 << 1,
    FUSE_IOMAP_F_SHARED = 1 << 2,
    FUSE_IOMAP_F_MERGED = 1 << 3,
    FUSE_IOMAP_F_BOUNDARY = 1 << 4,
    FUSE_IOMAP_F_ANON_WRITE = 1 << 5,
    FUSE_IOMAP_F_ATOMIC_BIO = 1 << 6,

    /// <summary>The server asks for an IOMAP_END call (IOMAP_F_PRIVATE in the kernel).</summary>
    FUSE_IOMAP_F_WANT_IOMAP_END = 1 << 7,

    /// <summary>END only: the write moved EOF.</summary>
    FUSE_IOMAP_F_SIZE_CHANGED = 1 << 8,

    /// <summary>END only: the mapping went stale during the operation.</summary>
    FUSE_IOMAP_F_STALE = 1 << 9,

    /// <summary>Every bit a BEGIN reply half may carry (§2.7 validation).</summary>
    ReplyMask = FUSE_IOMAP_F_NEW | FUSE_IOMAP_F_DIRTY | FUSE_IOMAP_F_SHARED | FUSE_IOMAP_F_MERGED
        | FUSE_IOMAP_F_BOUNDARY | FUSE_IOMAP_F_ANON_WRITE | FUSE_IOMAP_F_ATOMIC_BIO | FUSE_IOMAP_F_WANT_IOMAP_END,
}
