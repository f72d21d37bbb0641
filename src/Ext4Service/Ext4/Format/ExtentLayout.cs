namespace Safemount.Ext4.Format;

/// <summary>On-disk extent tree structures (linux fs/ext4/ext4_extents.h). All three are 12 bytes.</summary>
internal static class ExtentLayout
{
    public const ushort EXT4_EXT_MAGIC = 0xF30A;
    public const int EntrySize = 12;             // sizeof header == sizeof extent == sizeof index
    public const int MaxDepth = 5;               // EXT4_MAX_EXTENT_DEPTH
    public const int TailSize = 4;               // struct ext4_extent_tail { __le32 et_checksum; }
    public const ushort InitMaxLen = 32768;      // EXT_INIT_MAX_LEN: ee_len above this marks an unwritten extent

    // struct ext4_extent_header
    public const int eh_magic = 0;               // __le16 probably will support different formats
    public const int eh_entries = 2;             // __le16 number of valid entries
    public const int eh_max = 4;                 // __le16 capacity of store in entries
    public const int eh_depth = 6;               // __le16 has tree real underlying blocks?
    public const int eh_generation = 8;          // __le32 generation of the tree

    // struct ext4_extent (leaf)
    public const int ee_block = 0;               // __le32 first logical block extent covers
    public const int ee_len = 4;                 // __le16 number of blocks covered by extent
    public const int ee_start_hi = 6;            // __le16 high 16 bits of physical block
    public const int ee_start_lo = 8;            // __le32 low 32 bits of physical block

    // struct ext4_extent_idx (index)
    public const int ei_block = 0;               // __le32 index covers logical blocks from 'block'
    public const int ei_leaf_lo = 4;             // __le32 pointer to the physical block of the next level
    public const int ei_leaf_hi = 8;             // __le16 high 16 bits of physical block
    public const int ei_unused = 10;             // __u16
}
