namespace Safemount.Fuse.Abi;

/// <summary>FUSE_IOMAP_TYPE_* of fuse_iomap_io.type (fuse-iomap v7, FUSE-PROTOCOL.md §2.5).</summary>
public enum FuseIomapType : ushort
{
    /// <summary>No blocks: reads as zeros; dev 0, addr NULL.</summary>
    FUSE_IOMAP_TYPE_HOLE = 0,

    /// <summary>Delayed allocation reserved, no blocks yet; dev 0, addr NULL.</summary>
    FUSE_IOMAP_TYPE_DELALLOC = 1,

    /// <summary>Blocks allocated and written.</summary>
    FUSE_IOMAP_TYPE_MAPPED = 2,

    /// <summary>Blocks allocated, not yet written (reads as zeros; IOEND converts).</summary>
    FUSE_IOMAP_TYPE_UNWRITTEN = 3,

    /// <summary>Data inside the inode: moved by fh-less READ/WRITE; dev 0, addr NULL.</summary>
    FUSE_IOMAP_TYPE_INLINE = 4,

    /// <summary>NOCACHE: do not cache this half of an UPSERT; invalid in a BEGIN reply.</summary>
    FUSE_IOMAP_TYPE_NOCACHE = 253,

    /// <summary>RETRY_CACHE: the server has upserted; the kernel looks in its cache again.</summary>
    FUSE_IOMAP_TYPE_RETRY_CACHE = 254,

    /// <summary>PURE_OVERWRITE (write half only): writes go where the read mapping says.</summary>
    FUSE_IOMAP_TYPE_PURE_OVERWRITE = 255,
}
