namespace Safemount.Ext4.Format;

/// <summary>struct ext4_super_block field offsets (linux fs/ext4/ext4.h). The superblock is 1024 bytes at byte 1024.</summary>
internal static class SuperblockLayout
{
    public const int Offset = 1024;              // byte offset of the primary superblock on the device
    public const int Size = 1024;                // sizeof(struct ext4_super_block)
    public const ushort EXT4_SUPER_MAGIC = 0xEF53;

    public const int s_inodes_count = 0x00;          // __le32 Inodes count
    public const int s_blocks_count_lo = 0x04;       // __le32 Blocks count
    public const int s_r_blocks_count_lo = 0x08;     // __le32 Reserved blocks count
    public const int s_free_blocks_count_lo = 0x0C;  // __le32 Free blocks count
    public const int s_free_inodes_count = 0x10;     // __le32 Free inodes count
    public const int s_first_data_block = 0x14;      // __le32 First Data Block
    public const int s_log_block_size = 0x18;        // __le32 Block size = 1024 << s_log_block_size
    public const int s_log_cluster_size = 0x1C;      // __le32 Allocation cluster size
    public const int s_blocks_per_group = 0x20;      // __le32 # Blocks per group
    public const int s_clusters_per_group = 0x24;    // __le32 # Clusters per group
    public const int s_inodes_per_group = 0x28;      // __le32 # Inodes per group
    public const int s_mtime = 0x2C;                 // __le32 Mount time
    public const int s_wtime = 0x30;                 // __le32 Write time
    public const int s_mnt_count = 0x34;             // __le16 Mount count
    public const int s_max_mnt_count = 0x36;         // __le16 Maximal mount count
    public const int s_magic = 0x38;                 // __le16 Magic signature
    public const int s_state = 0x3A;                 // __le16 File system state
    public const int s_errors = 0x3C;                // __le16 Behaviour when detecting errors
    public const int s_minor_rev_level = 0x3E;       // __le16 minor revision level
    public const int s_lastcheck = 0x40;             // __le32 time of last check
    public const int s_checkinterval = 0x44;         // __le32 max. time between checks
    public const int s_creator_os = 0x48;            // __le32 OS
    public const int s_rev_level = 0x4C;             // __le32 Revision level
    public const int s_def_resuid = 0x50;            // __le16 Default uid for reserved blocks
    public const int s_def_resgid = 0x52;            // __le16 Default gid for reserved blocks
    public const int s_first_ino = 0x54;             // __le32 First non-reserved inode
    public const int s_inode_size = 0x58;            // __le16 size of inode structure
    public const int s_block_group_nr = 0x5A;        // __le16 block group # of this superblock
    public const int s_feature_compat = 0x5C;        // __le32 compatible feature set
    public const int s_feature_incompat = 0x60;      // __le32 incompatible feature set
    public const int s_feature_ro_compat = 0x64;     // __le32 readonly-compatible feature set
    public const int s_uuid = 0x68;                  // __u8[16] 128-bit uuid for volume
    public const int s_volume_name = 0x78;           // char[16] volume name
    public const int s_last_mounted = 0x88;          // char[64] directory where last mounted
    public const int s_algorithm_usage_bitmap = 0xC8; // __le32 For compression
    public const int s_prealloc_blocks = 0xCC;       // __u8 Nr of blocks to try to preallocate
    public const int s_prealloc_dir_blocks = 0xCD;   // __u8 Nr to preallocate for dirs
    public const int s_reserved_gdt_blocks = 0xCE;   // __le16 Per group desc for online growth
    public const int s_journal_uuid = 0xD0;          // __u8[16] uuid of journal superblock
    public const int s_journal_inum = 0xE0;          // __le32 inode number of journal file
    public const int s_journal_dev = 0xE4;           // __le32 device number of journal file
    public const int s_last_orphan = 0xE8;           // __le32 start of list of inodes to delete
    public const int s_hash_seed = 0xEC;             // __le32[4] HTREE hash seed
    public const int s_def_hash_version = 0xFC;      // __u8 Default hash version to use
    public const int s_jnl_backup_type = 0xFD;       // __u8
    public const int s_desc_size = 0xFE;             // __le16 size of group descriptor
    public const int s_default_mount_opts = 0x100;   // __le32
    public const int s_first_meta_bg = 0x104;        // __le32 First metablock block group
    public const int s_mkfs_time = 0x108;            // __le32 When the filesystem was created
    public const int s_jnl_blocks = 0x10C;           // __le32[17] Backup of the journal inode
    public const int s_blocks_count_hi = 0x150;      // __le32 Blocks count
    public const int s_r_blocks_count_hi = 0x154;    // __le32 Reserved blocks count
    public const int s_free_blocks_count_hi = 0x158; // __le32 Free blocks count
    public const int s_min_extra_isize = 0x15C;      // __le16 All inodes have at least # bytes
    public const int s_want_extra_isize = 0x15E;     // __le16 New inodes should reserve # bytes
    public const int s_flags = 0x160;                // __le32 Miscellaneous flags
    public const int s_raid_stride = 0x164;          // __le16 RAID stride
    public const int s_mmp_update_interval = 0x166;  // __le16 # seconds to wait in MMP checking
    public const int s_mmp_block = 0x168;            // __le64 Block for multi-mount protection
    public const int s_raid_stripe_width = 0x170;    // __le32 blocks on all data disks (N*stride)
    public const int s_log_groups_per_flex = 0x174;  // __u8 FLEX_BG group size
    public const int s_checksum_type = 0x175;        // __u8 metadata checksum algorithm used
    public const int s_kbytes_written = 0x178;       // __le64 nr of lifetime kilobytes written
    public const int s_error_count = 0x194;          // __le32 number of fs errors
    public const int s_first_error_time = 0x198;     // __le32 first time an error happened
    public const int s_first_error_ino = 0x19C;      // __le32 inode involved in first error
    public const int s_first_error_block = 0x1A0;    // __le64 block involved of first error
    public const int s_first_error_func = 0x1A8;     // __u8[32] function where the error happened
    public const int s_first_error_line = 0x1C8;     // __le32 line number where error happened
    public const int s_last_error_time = 0x1CC;      // __le32 most recent time of an error
    public const int s_last_error_ino = 0x1D0;       // __le32 inode involved in last error
    public const int s_last_error_line = 0x1D4;      // __le32 line number where error happened
    public const int s_last_error_block = 0x1D8;     // __le64 block involved of last error
    public const int s_last_error_func = 0x1E0;      // __u8[32] function where the error happened
    public const int ErrorFuncSize = 32;             // EXT4_ERROR_FUNC_LEN... sizeof(s_first_error_func)
    public const int s_overhead_clusters = 0x248;    // __le32 overhead blocks/clusters in fs
    public const int s_backup_bgs = 0x24C;           // __le32[2] groups with sparse_super2 SBs
    public const int s_checksum_seed = 0x270;        // __le32 crc32c(uuid) if csum_seed set
    public const int s_wtime_hi = 0x274;             // __u8 high 8 bits of s_wtime
    public const int s_mtime_hi = 0x275;             // __u8 high 8 bits of s_mtime
    public const int s_first_error_time_hi = 0x278; // __u8
    public const int s_last_error_time_hi = 0x279;  // __u8
    public const int s_first_error_errcode = 0x27A; // __u8 EXT4_ERR_*
    public const int s_last_error_errcode = 0x27B;  // __u8 EXT4_ERR_*
    public const int s_encoding = 0x27C;             // __le16 Filename charset encoding
    public const int s_checksum = 0x3FC;             // __le32 crc32c(superblock)

    // s_state
    public const ushort EXT4_VALID_FS = 0x0001;      // Unmounted cleanly
    public const ushort EXT4_ERROR_FS = 0x0002;      // Errors detected
    public const ushort EXT4_ORPHAN_FS = 0x0004;     // Orphans being recovered

    // s_errors
    public const ushort EXT4_ERRORS_CONTINUE = 1;    // Continue execution
    public const ushort EXT4_ERRORS_RO = 2;          // Remount fs read-only
    public const ushort EXT4_ERRORS_PANIC = 3;       // Panic

    // s_{first,last}_error_errcode (ext4_errno_to_code)
    public const byte EXT4_ERR_UNKNOWN = 1;
    public const byte EXT4_ERR_EIO = 2;
    public const byte EXT4_ERR_EFSBADCRC = 4;
    public const byte EXT4_ERR_EFSCORRUPTED = 5;

    // s_flags
    public const uint EXT2_FLAGS_SIGNED_HASH = 0x0001;
    public const uint EXT2_FLAGS_UNSIGNED_HASH = 0x0002;

    public const byte EXT4_CRC32C_CHKSUM = 1;        // s_checksum_type

    public const uint MinLogBlockSize = 0;           // 1 KiB
    public const uint MaxLogBlockSize = 6;           // 64 KiB (EXT4_MAX_BLOCK_LOG_SIZE - 10)
}
