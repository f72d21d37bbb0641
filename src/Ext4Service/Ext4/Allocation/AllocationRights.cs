namespace Safemount.Ext4.Allocation;

/// <summary>
/// Which reserve an allocation may dip into (kernel: ext4_has_free_clusters). The volume
/// keeps s_r_blocks_count blocks for the reserved user/group and a pool of
/// min(2 %, 4096) clusters (s_resv_clusters, extent file systems only) for metadata that an
/// already-admitted operation needs.
/// </summary>
internal enum AllocationRights
{
    /// <summary>An ordinary caller: both reserves stay untouched.</summary>
    User,

    /// <summary>uid 0, s_def_resuid or s_def_resgid: may use s_r_blocks_count, not the metadata pool.</summary>
    Privileged,

    /// <summary>Metadata of an admitted operation (EXT4_MB_USE_RESERVED): may use everything.</summary>
    Reserved,
}
