namespace Safemount.Fuse;

/// <summary>
/// What a file system answers to FUSE_IOMAP_CONFIG (fuse_iomap_config_out, FUSE-PROTOCOL.md
/// §2.4/§2.8). The session sets the CONFIG_* bit of every field it sends and clamps
/// <see cref="CacheMaxbytes"/> to the kernel's range.
/// </summary>
/// <param name="Sid">s_id: short name of the superblock (at most 31 bytes are sent).</param>
/// <param name="Uuid">s_uuid: the file system UUID (at most 16 bytes).</param>
/// <param name="BlockSize">s_blocksize, bytes: a power of two the mappings are aligned to.</param>
/// <param name="MaxLinks">s_max_links.</param>
/// <param name="TimeGranularityNs">s_time_gran, ns (1..1e9).</param>
/// <param name="TimeMin">s_time_min, seconds since the epoch.</param>
/// <param name="TimeMax">s_time_max, seconds since the epoch.</param>
/// <param name="MaxBytes">s_maxbytes: largest file size, bytes.</param>
/// <param name="CacheMaxbytes">cache_maxbytes: per-inode mapping-cache limit, bytes; 0 leaves the kernel's.</param>
public sealed record FuseIomapConfig(
    byte[] Sid,
    byte[] Uuid,
    uint BlockSize,
    uint MaxLinks,
    uint TimeGranularityNs,
    long TimeMin,
    long TimeMax,
    long MaxBytes,
    uint CacheMaxbytes);
