namespace Safemount.Fuse.Abi;

/// <summary>FUSE_IOMAP_CONFIG_* of fuse_iomap_config_in/out.flags (fuse-iomap v7, FUSE-PROTOCOL.md §2.5).</summary>
[Flags]
internal enum FuseIomapConfigFlags : ulong
{
    None = 0,
    FUSE_IOMAP_CONFIG_SID = 1UL << 0,
    FUSE_IOMAP_CONFIG_UUID = 1UL << 1,
    FUSE_IOMAP_CONFIG_BLOCKSIZE = 1UL << 2,
    FUSE_IOMAP_CONFIG_MAX_LINKS = 1UL << 3,
    FUSE_IOMAP_CONFIG_TIME = 1UL << 4,
    FUSE_IOMAP_CONFIG_MAXBYTES = 1UL << 5,
    FUSE_IOMAP_CONFIG_CACHE_MAXBYTES = 1UL << 6,
}
