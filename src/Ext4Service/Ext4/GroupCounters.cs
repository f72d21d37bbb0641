namespace Safemount.Ext4;

/// <summary>
/// The mutable fields of one group descriptor (struct ext4_group_desc), lo and hi halves
/// combined (the hi halves exist only with 64bit descriptors; writing a value that needs them on
/// a 32-byte descriptor throws). Locations of the bitmaps and inode table never change and stay
/// in <see cref="Format.GroupDescriptor"/>.
/// </summary>
internal struct GroupCounters
{
    /// <summary>bg_free_blocks_count (clusters with bigalloc).</summary>
    public uint FreeBlocks;

    /// <summary>bg_free_inodes_count.</summary>
    public uint FreeInodes;

    /// <summary>bg_used_dirs_count.</summary>
    public uint UsedDirs;

    /// <summary>bg_itable_unused: inodes at the end of the table never used (uninit_bg / metadata_csum).</summary>
    public uint ItableUnused;

    /// <summary>bg_flags: EXT4_BG_INODE_UNINIT, EXT4_BG_BLOCK_UNINIT, EXT4_BG_INODE_ZEROED.</summary>
    public ushort Flags;

    /// <summary>bg_block_bitmap_csum (lo | hi &lt;&lt; 16).</summary>
    public uint BlockBitmapCsum;

    /// <summary>bg_inode_bitmap_csum (lo | hi &lt;&lt; 16).</summary>
    public uint InodeBitmapCsum;
}
