using L = Safemount.Ext4.Format.SuperblockLayout;
using static Safemount.Ext4.Format.LittleEndian;

namespace Safemount.Ext4.Format;

/// <summary>
/// Decoded struct ext4_super_block (the fields the reader uses). Decoding never fails; the
/// values are alleged until <see cref="Ext4Volume.Open"/> has validated them.
/// </summary>
internal sealed class Superblock
{
    public Superblock(ReadOnlySpan<byte> b)
    {
        if (b.Length < L.Size)
        {
            throw new ArgumentException($"superblock needs {L.Size} bytes", nameof(b));
        }

        b = b[..L.Size];
        Raw = b.ToArray();
        s_inodes_count = U32(b, L.s_inodes_count);
        s_blocks_count = U32(b, L.s_blocks_count_lo);
        s_r_blocks_count = U32(b, L.s_r_blocks_count_lo);
        s_free_blocks_count = U32(b, L.s_free_blocks_count_lo);
        s_free_inodes_count = U32(b, L.s_free_inodes_count);
        s_first_data_block = U32(b, L.s_first_data_block);
        s_log_block_size = U32(b, L.s_log_block_size);
        s_log_cluster_size = U32(b, L.s_log_cluster_size);
        s_blocks_per_group = U32(b, L.s_blocks_per_group);
        s_clusters_per_group = U32(b, L.s_clusters_per_group);
        s_inodes_per_group = U32(b, L.s_inodes_per_group);
        s_magic = U16(b, L.s_magic);
        s_state = U16(b, L.s_state);
        s_rev_level = U32(b, L.s_rev_level);
        s_creator_os = U32(b, L.s_creator_os);
        s_first_ino = U32(b, L.s_first_ino);
        s_inode_size = U16(b, L.s_inode_size);
        s_feature_compat = U32(b, L.s_feature_compat);
        s_feature_incompat = U32(b, L.s_feature_incompat);
        s_feature_ro_compat = U32(b, L.s_feature_ro_compat);
        s_uuid = b.Slice(L.s_uuid, 16).ToArray();
        s_volume_name = b.Slice(L.s_volume_name, 16).ToArray();
        s_reserved_gdt_blocks = U16(b, L.s_reserved_gdt_blocks);
        s_journal_inum = U32(b, L.s_journal_inum);
        s_hash_seed = new uint[4];
        for (int i = 0; i < 4; i++)
        {
            s_hash_seed[i] = U32(b, L.s_hash_seed + (4 * i));
        }

        s_def_hash_version = b[L.s_def_hash_version];
        s_desc_size = U16(b, L.s_desc_size);
        s_first_meta_bg = U32(b, L.s_first_meta_bg);
        s_min_extra_isize = U16(b, L.s_min_extra_isize);
        s_flags = U32(b, L.s_flags);
        s_log_groups_per_flex = b[L.s_log_groups_per_flex];
        s_checksum_type = b[L.s_checksum_type];
        s_overhead_clusters = U32(b, L.s_overhead_clusters);
        s_backup_bgs = [U32(b, L.s_backup_bgs), U32(b, L.s_backup_bgs + 4)];
        s_checksum_seed = U32(b, L.s_checksum_seed);
        s_checksum = U32(b, L.s_checksum);

        if ((s_feature_incompat & Ext4Features.INCOMPAT_64BIT) != 0)
        {
            s_blocks_count |= (ulong)U32(b, L.s_blocks_count_hi) << 32;
            s_r_blocks_count |= (ulong)U32(b, L.s_r_blocks_count_hi) << 32;
            s_free_blocks_count |= (ulong)U32(b, L.s_free_blocks_count_hi) << 32;
        }
    }

    /// <summary>The 1024 raw bytes (for the checksum).</summary>
    public byte[] Raw { get; }

    public uint s_inodes_count { get; }          // Inodes count
    public ulong s_blocks_count { get; }         // Blocks count (lo | hi << 32 with 64bit)
    public ulong s_r_blocks_count { get; }       // Reserved blocks count
    public ulong s_free_blocks_count { get; }    // Free blocks count
    public uint s_free_inodes_count { get; }     // Free inodes count
    public uint s_first_data_block { get; }      // First Data Block (1 for 1 KiB blocks, else 0)
    public uint s_log_block_size { get; }        // Block size = 1024 << s_log_block_size
    public uint s_log_cluster_size { get; }      // Allocation cluster size
    public uint s_blocks_per_group { get; }      // # Blocks per group
    public uint s_clusters_per_group { get; }    // # Clusters per group
    public uint s_inodes_per_group { get; }      // # Inodes per group
    public ushort s_magic { get; }               // Magic signature 0xEF53
    public ushort s_state { get; }               // File system state
    public uint s_rev_level { get; }             // Revision level (0 = good old, fixed 128-byte inodes)
    public uint s_creator_os { get; }            // OS
    public uint s_first_ino { get; }             // First non-reserved inode
    public ushort s_inode_size { get; }          // size of inode structure
    public uint s_feature_compat { get; }        // compatible feature set
    public uint s_feature_incompat { get; }      // incompatible feature set
    public uint s_feature_ro_compat { get; }     // readonly-compatible feature set
    public byte[] s_uuid { get; }                // 128-bit uuid for volume
    public byte[] s_volume_name { get; }         // volume name, NUL-padded
    public ushort s_reserved_gdt_blocks { get; } // Per group desc for online growth
    public uint s_journal_inum { get; }          // inode number of journal file
    public uint[] s_hash_seed { get; }           // HTREE hash seed
    public byte s_def_hash_version { get; }      // Default hash version to use
    public ushort s_desc_size { get; }           // size of group descriptor (64bit)
    public uint s_first_meta_bg { get; }         // First metablock block group
    public ushort s_min_extra_isize { get; }     // All inodes have at least # bytes
    public uint s_flags { get; }                 // Miscellaneous flags (signed/unsigned hash)
    public byte s_log_groups_per_flex { get; }   // FLEX_BG group size
    public byte s_checksum_type { get; }         // metadata checksum algorithm used
    public uint s_overhead_clusters { get; }     // overhead blocks/clusters in fs
    public uint[] s_backup_bgs { get; }          // groups with sparse_super2 SBs
    public uint s_checksum_seed { get; }         // crc32c(uuid) if csum_seed set
    public uint s_checksum { get; }              // crc32c(superblock)

    public bool HasCompat(uint f) => (s_feature_compat & f) != 0;

    public bool HasIncompat(uint f) => (s_feature_incompat & f) != 0;

    public bool HasRoCompat(uint f) => (s_feature_ro_compat & f) != 0;
}
