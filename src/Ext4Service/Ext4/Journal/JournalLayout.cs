namespace Safemount.Ext4.Journal;

/// <summary>
/// On-disk constants of the jbd2 journal (include/linux/jbd2.h; ext4 disk-layout doc,
/// "Journal (jbd2)"). Every journal field is BIG-endian. Offsets are in bytes from the start of
/// the journal block.
/// </summary>
internal static class JournalLayout
{
    /// <summary>h_magic of every journal metadata block (JBD2_MAGIC_NUMBER).</summary>
    public const uint JBD2_MAGIC_NUMBER = 0xC03B3998;

    // journal_header_t: 12 bytes at the start of every journal metadata block.
    public const int h_magic = 0x0;                 // __be32 JBD2_MAGIC_NUMBER
    public const int h_blocktype = 0x4;             // __be32 one of the block types below
    public const int h_sequence = 0x8;              // __be32 transaction id this block belongs to
    public const int HeaderSize = 12;

    // h_blocktype values.
    public const uint JBD2_DESCRIPTOR_BLOCK = 1;
    public const uint JBD2_COMMIT_BLOCK = 2;
    public const uint JBD2_SUPERBLOCK_V1 = 3;
    public const uint JBD2_SUPERBLOCK_V2 = 4;
    public const uint JBD2_REVOKE_BLOCK = 5;

    // journal_superblock_t (1024 bytes in journal block 0).
    public const int s_blocksize = 0xC;             // __be32 journal device block size
    public const int s_maxlen = 0x10;               // __be32 total blocks in the journal
    public const int s_first = 0x14;                // __be32 first block of log information
    public const int s_sequence = 0x18;             // __be32 first commit id expected in the log
    public const int s_start = 0x1C;                // __be32 block of the start of the log; 0 = clean
    public const int s_errno = 0x20;                // __be32 error value set by jbd2_journal_abort
    public const int s_feature_compat = 0x24;       // __be32 (v2 only)
    public const int s_feature_incompat = 0x28;     // __be32 (v2 only)
    public const int s_feature_ro_compat = 0x2C;    // __be32 (v2 only)
    public const int s_uuid = 0x30;                 // __u8[16] journal uuid (seed of every v2/v3 checksum)
    public const int s_nr_users = 0x40;             // __be32 file systems sharing the journal
    public const int s_checksum_type = 0x50;        // __u8 JBD2_CRC32C_CHKSUM with csum v2/v3
    public const int s_num_fc_blks = 0x54;          // __be32 fast-commit blocks at the end (0 = default)
    public const int s_checksum = 0xFC;             // __be32 crc32c(~0, superblock with s_checksum = 0)
    public const int SuperblockSize = 1024;

    // s_feature_compat.
    public const uint JBD2_FEATURE_COMPAT_CHECKSUM = 0x1;        // v1 crc32_be commit checksums

    // s_feature_incompat.
    public const uint JBD2_FEATURE_INCOMPAT_REVOKE = 0x1;
    public const uint JBD2_FEATURE_INCOMPAT_64BIT = 0x2;
    public const uint JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT = 0x4;
    public const uint JBD2_FEATURE_INCOMPAT_CSUM_V2 = 0x8;
    public const uint JBD2_FEATURE_INCOMPAT_CSUM_V3 = 0x10;
    public const uint JBD2_FEATURE_INCOMPAT_FAST_COMMIT = 0x20;

    public const uint KnownIncompat = JBD2_FEATURE_INCOMPAT_REVOKE | JBD2_FEATURE_INCOMPAT_64BIT
        | JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT | JBD2_FEATURE_INCOMPAT_CSUM_V2
        | JBD2_FEATURE_INCOMPAT_CSUM_V3 | JBD2_FEATURE_INCOMPAT_FAST_COMMIT;

    // s_checksum_type / h_chksum_type.
    public const byte JBD2_CRC32_CHKSUM = 1;        // v1 commit checksum (crc32_be)
    public const byte JBD2_CRC32C_CHKSUM = 4;
    public const byte JBD2_CRC32_CHKSUM_SIZE = 4;

    /// <summary>The kernel refuses journals shorter than this (JBD2_MIN_JOURNAL_BLOCKS).</summary>
    public const uint JBD2_MIN_JOURNAL_BLOCKS = 1024;

    /// <summary>Fast-commit area size when s_num_fc_blks is 0 (JBD2_DEFAULT_FAST_COMMIT_BLOCKS).</summary>
    public const uint JBD2_DEFAULT_FAST_COMMIT_BLOCKS = 256;

    // struct commit_header.
    public const int h_chksum_type = 0xC;           // __u8
    public const int h_chksum_size = 0xD;           // __u8
    public const int h_chksum = 0x10;               // __be32[8]; [0] holds the checksum
    public const int h_commit_sec = 0x30;           // __be64 commit time, seconds
    public const int h_commit_nsec = 0x38;          // __be32

    // Block tags after the header of a descriptor block.
    // journal_block_tag3_t (csum v3, 16 bytes): t_blocknr be32 @0, t_flags be32 @4,
    // t_blocknr_high be32 @8, t_checksum be32 @12.
    // journal_block_tag_t (otherwise): t_blocknr be32 @0, t_checksum be16 @4 (csum v2),
    // t_flags be16 @6, t_blocknr_high be32 @8 (64bit only); size 8, +4 with 64bit, +2 with csum v2.
    // In both, the low 16 bits of the flags are the big-endian u16 at offset 6.
    public const int t_blocknr = 0;
    public const int t_checksum16 = 4;
    public const int t_flags16 = 6;
    public const int t_blocknr_high = 8;
    public const int t_checksum32 = 12;
    public const int Tag3Size = 16;
    public const int UuidSize = 16;                 // follows every tag without JBD2_FLAG_SAME_UUID

    // Tag flags.
    public const ushort JBD2_FLAG_ESCAPE = 1;       // the block's first 4 bytes were JBD2_MAGIC_NUMBER
    public const ushort JBD2_FLAG_SAME_UUID = 2;    // no 16-byte uuid follows this tag
    public const ushort JBD2_FLAG_DELETED = 4;      // unused by recovery
    public const ushort JBD2_FLAG_LAST_TAG = 8;     // last tag of this descriptor block

    // jbd2_journal_revoke_header_t: header, then r_count (bytes used in the block, header included).
    public const int r_count = 0xC;                 // __be32
    public const int RevokeHeaderSize = 16;

    /// <summary>struct jbd2_journal_block_tail: __be32 t_checksum in the last 4 bytes of descriptor and revoke blocks (csum v2/v3).</summary>
    public const int BlockTailSize = 4;

    // Fast-commit area (fs/ext4/fast_commit.h): tags are little-endian (tag u16, len u16);
    // the area's first tag is EXT4_FC_TAG_HEAD { __le32 fc_features; __le32 fc_tid; }.
    public const ushort EXT4_FC_TAG_HEAD = 0x0009;
}
