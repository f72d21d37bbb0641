using Safemount.Ext4.Allocation;
using Safemount.Ext4.Format;

namespace Safemount.Ext4;

public sealed partial class Ext4Volume
{
    private BlockAllocator? _blockAllocator; // created on first use, published once (LazyInitializer)
    private InodeAllocator? _inodeAllocator;

    /// <summary>The block allocator (its group locks are lock level 3 of RWCORE's order).</summary>
    internal BlockAllocator BlockAllocator => LazyInitializer.EnsureInitialized(ref _blockAllocator, () => new BlockAllocator(this));

    /// <summary>The inode allocator (shares the block allocator's group locks).</summary>
    internal InodeAllocator InodeAllocator => LazyInitializer.EnsureInitialized(ref _inodeAllocator, () => new InodeAllocator(this, BlockAllocator));

    /// <summary>
    /// Reserve rights of a caller (ext4_has_free_clusters): uid 0 (standing in for
    /// CAP_SYS_RESOURCE), s_def_resuid or s_def_resgid may use s_r_blocks_count.
    /// </summary>
    internal AllocationRights RightsOf(uint uid, uint gid)
    {
        uint resuid = LittleEndian.U16(Sb.Raw, SuperblockLayout.s_def_resuid);
        uint resgid = LittleEndian.U16(Sb.Raw, SuperblockLayout.s_def_resgid);
        return uid == 0 || uid == resuid || gid == resgid ? AllocationRights.Privileged : AllocationRights.User;
    }

    /// <summary>
    /// Why this volume cannot be written by the allocators, or null. bigalloc (cluster
    /// bitmaps) is not implemented for writing.
    /// </summary>
    internal string? WriteRefusal =>
        IsReadOnly ? "read-only volume"
        : Sb.HasRoCompat(Ext4Features.RO_COMPAT_BIGALLOC) ? "bigalloc volumes are read-only in safemount (cluster allocation is not implemented)"
        : null;
}
