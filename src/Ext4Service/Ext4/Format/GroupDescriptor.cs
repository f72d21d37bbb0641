using static Safemount.Ext4.Format.LittleEndian;

namespace Safemount.Ext4.Format;

/// <summary>
/// Decoded struct ext4_group_desc: 32 bytes, or s_desc_size (>= 64) bytes with the 64bit
/// feature, in which case the _hi halves follow at 0x20.
/// </summary>
internal sealed class GroupDescriptor
{
    public const int Size32 = 32;                    // EXT4_MIN_DESC_SIZE
    public const int MinSize64 = 64;                 // EXT4_MIN_DESC_SIZE_64BIT
    public const int MaxSize = 1024;                 // EXT4_MAX_DESC_SIZE (EXT4_MIN_BLOCK_SIZE)

    public const int bg_block_bitmap_lo = 0x00;      // __le32 Blocks bitmap block
    public const int bg_inode_bitmap_lo = 0x04;      // __le32 Inodes bitmap block
    public const int bg_inode_table_lo = 0x08;       // __le32 Inodes table block
    public const int bg_free_blocks_count_lo = 0x0C; // __le16 Free blocks count
    public const int bg_free_inodes_count_lo = 0x0E; // __le16 Free inodes count
    public const int bg_used_dirs_count_lo = 0x10;   // __le16 Directories count
    public const int bg_flags = 0x12;                // __le16 EXT4_BG_flags (INODE_UNINIT, etc)
    public const int bg_exclude_bitmap_lo = 0x14;    // __le32 Exclude bitmap for snapshots
    public const int bg_block_bitmap_csum_lo = 0x18; // __le16 crc32c(s_uuid+grp_num+bbitmap) LE
    public const int bg_inode_bitmap_csum_lo = 0x1A; // __le16 crc32c(s_uuid+grp_num+ibitmap) LE
    public const int bg_itable_unused_lo = 0x1C;     // __le16 Unused inodes count
    public const int bg_checksum = 0x1E;             // __le16 crc16(sb_uuid+group+desc)
    public const int bg_block_bitmap_hi = 0x20;      // __le32 Blocks bitmap block MSB
    public const int bg_inode_bitmap_hi = 0x24;      // __le32 Inodes bitmap block MSB
    public const int bg_inode_table_hi = 0x28;       // __le32 Inodes table block MSB
    public const int bg_free_blocks_count_hi = 0x2C; // __le16 Free blocks count MSB
    public const int bg_free_inodes_count_hi = 0x2E; // __le16 Free inodes count MSB
    public const int bg_used_dirs_count_hi = 0x30;   // __le16 Directories count MSB
    public const int bg_itable_unused_hi = 0x32;     // __le16 Unused inodes count MSB
    public const int bg_exclude_bitmap_hi = 0x34;    // __le32 Exclude bitmap block MSB
    public const int bg_block_bitmap_csum_hi = 0x38; // __le16 crc32c(s_uuid+grp_num+bbitmap) BE
    public const int bg_inode_bitmap_csum_hi = 0x3A; // __le16 crc32c(s_uuid+grp_num+ibitmap) BE

    public const ushort EXT4_BG_INODE_UNINIT = 0x0001; // Inode table/bitmap not in use
    public const ushort EXT4_BG_BLOCK_UNINIT = 0x0002; // Block bitmap not in use
    public const ushort EXT4_BG_INODE_ZEROED = 0x0004; // On-disk itable initialized to zero

    public GroupDescriptor(ReadOnlySpan<byte> d, bool is64)
    {
        bg_block_bitmap = U32(d, bg_block_bitmap_lo);
        bg_inode_bitmap = U32(d, bg_inode_bitmap_lo);
        bg_inode_table = U32(d, bg_inode_table_lo);
        bg_free_blocks_count = U16(d, bg_free_blocks_count_lo);
        bg_free_inodes_count = U16(d, bg_free_inodes_count_lo);
        bg_used_dirs_count = U16(d, bg_used_dirs_count_lo);
        Flags = U16(d, GroupDescriptor.bg_flags);
        bg_itable_unused = U16(d, bg_itable_unused_lo);
        Checksum = U16(d, bg_checksum);
        if (is64 && d.Length >= MinSize64)
        {
            bg_block_bitmap |= (ulong)U32(d, bg_block_bitmap_hi) << 32;
            bg_inode_bitmap |= (ulong)U32(d, bg_inode_bitmap_hi) << 32;
            bg_inode_table |= (ulong)U32(d, bg_inode_table_hi) << 32;
            bg_free_blocks_count |= (uint)U16(d, bg_free_blocks_count_hi) << 16;
            bg_free_inodes_count |= (uint)U16(d, bg_free_inodes_count_hi) << 16;
            bg_used_dirs_count |= (uint)U16(d, bg_used_dirs_count_hi) << 16;
            bg_itable_unused |= (uint)U16(d, bg_itable_unused_hi) << 16;
        }
    }

    public ulong bg_block_bitmap { get; }
    public ulong bg_inode_bitmap { get; }
    public ulong bg_inode_table { get; }
    public uint bg_free_blocks_count { get; }
    public uint bg_free_inodes_count { get; }
    public uint bg_used_dirs_count { get; }
    public ushort Flags { get; }
    public uint bg_itable_unused { get; }
    public ushort Checksum { get; }
}
