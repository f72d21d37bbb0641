namespace Safemount.Ext4.Format;

/// <summary>
/// Directory block structures (linux fs/ext4/ext4.h, namei.c): struct ext4_dir_entry_2, the
/// checksum tail struct ext4_dir_entry_tail, and the htree dx_root / dx_node / dx_entry /
/// dx_tail layouts.
/// </summary>
internal static class DirEntryLayout
{
    // struct ext4_dir_entry_2
    public const int inode = 0;                  // __le32 Inode number
    public const int rec_len = 4;                // __le16 Directory entry length
    public const int name_len = 6;               // __u8 Name length
    public const int file_type = 7;              // __u8 EXT4_FT_*
    public const int name = 8;                   // char[EXT4_NAME_LEN] File name
    public const int HeaderSize = 8;
    public const int EXT4_NAME_LEN = 255;
    public const int MinRecLen = 12;             // EXT4_DIR_REC_LEN(1)
    public const byte EXT4_FT_MAX = 8;           // file types 0..7 are defined

    /// <summary>EXT4_DIR_REC_LEN(name_len): header plus name rounded up to 4 bytes.</summary>
    public static int RecLen(int nameLen) => (nameLen + HeaderSize + 3) & ~3;

    // struct ext4_dir_entry_tail: the last 12 bytes of a leaf block with metadata_csum
    public const int TailSize = 12;
    public const int det_reserved_zero1 = 0;     // __le32 Pretend to be unused
    public const int det_rec_len = 4;            // __le16 12
    public const int det_reserved_zero2 = 6;     // __u8 Zero name length
    public const int det_reserved_ft = 7;        // __u8 0xDE, fake file type
    public const int det_checksum = 8;           // __le32 crc32c(uuid+inum+dirblock)
    public const byte EXT4_FT_DIR_CSUM = 0xDE;

    // struct dx_root: fake "." (12 bytes) and ".." (rec_len = block size - 12) entries, then
    // struct dx_root_info at 0x18, then dx_countlimit + dx_entry[] at 0x18 + info_length.
    public const int dx_root_info = 0x18;
    public const int info_reserved_zero = 0x18;  // __le32
    public const int info_hash_version = 0x1C;   // __u8
    public const int info_length = 0x1D;         // __u8 8
    public const int info_indirect_levels = 0x1E; // __u8
    public const int info_unused_flags = 0x1F;   // __u8
    public const int DxRootInfoSize = 8;

    // struct dx_node: fake dirent (inode 0, rec_len = block size), then dx_countlimit at 8.
    public const int DxNodeEntries = 8;

    // struct dx_countlimit (overlays dx_entry[0].hash) and struct dx_entry
    public const int dx_limit = 0;               // __le16
    public const int dx_count = 2;               // __le16
    public const int dx_hash = 0;                // __le32
    public const int dx_block = 4;               // __le32 logical block in the directory (low 28 bits)
    public const int DxEntrySize = 8;
    public const uint DxBlockMask = 0x0FFFFFFF;

    // struct dx_tail after dx_entry[limit]
    public const int DxTailSize = 8;
    public const int dt_reserved = 0;            // __le32
    public const int dt_checksum = 4;            // __le32 crc32c(uuid+inum+dirblock)

    /// <summary>Index levels below the root: 2 normally (indirect_levels 0..1), 3 with large_dir.</summary>
    public const int HtreeLevels = 2;
    public const int HtreeLevelsLargeDir = 3;
}
