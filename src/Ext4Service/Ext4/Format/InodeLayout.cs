namespace Safemount.Ext4.Format;

/// <summary>
/// struct ext4_inode field offsets (linux fs/ext4/ext4.h), i_mode type bits and i_flags bits.
/// The first 128 bytes are the "good old" inode; i_extra_isize bytes follow.
/// </summary>
internal static class InodeLayout
{
    public const int GoodOldInodeSize = 128;     // EXT4_GOOD_OLD_INODE_SIZE
    public const int MaxInodeSize = 4096;        // s_inode_size must be a power of 2 in [128, block size]
    public const int IBlockSize = 60;            // EXT4_N_BLOCKS (15) * 4

    public const int i_mode = 0x00;              // __le16 File mode
    public const int i_uid = 0x02;               // __le16 Low 16 bits of Owner Uid
    public const int i_size_lo = 0x04;           // __le32 Size in bytes
    public const int i_atime = 0x08;             // __le32 Access time
    public const int i_ctime = 0x0C;             // __le32 Inode Change time
    public const int i_mtime = 0x10;             // __le32 Modification time
    public const int i_dtime = 0x14;             // __le32 Deletion Time
    public const int i_gid = 0x18;               // __le16 Low 16 bits of Group Id
    public const int i_links_count = 0x1A;       // __le16 Links count
    public const int i_blocks_lo = 0x1C;         // __le32 Blocks count
    public const int i_flags = 0x20;             // __le32 File flags
    public const int l_i_version = 0x24;         // __le32 osd1
    public const int i_block = 0x28;             // __le32[15] Pointers to blocks
    public const int i_generation = 0x64;        // __le32 File version (for NFS)
    public const int i_file_acl_lo = 0x68;       // __le32 File ACL
    public const int i_size_high = 0x6C;         // __le32
    public const int i_obso_faddr = 0x70;        // __le32 Obsoleted fragment address
    public const int l_i_blocks_high = 0x74;     // __le16 osd2
    public const int l_i_file_acl_high = 0x76;   // __le16
    public const int l_i_uid_high = 0x78;        // __le16
    public const int l_i_gid_high = 0x7A;        // __le16
    public const int l_i_checksum_lo = 0x7C;     // __le16 crc32c(uuid+inum+inode) LE
    public const int l_i_reserved = 0x7E;        // __le16
    public const int i_extra_isize = 0x80;       // __le16
    public const int i_checksum_hi = 0x82;       // __le16 crc32c(uuid+inum+inode) BE
    public const int i_ctime_extra = 0x84;       // __le32 extra Change time (nsec << 2 | epoch)
    public const int i_mtime_extra = 0x88;       // __le32 extra Modification time
    public const int i_atime_extra = 0x8C;       // __le32 extra Access time
    public const int i_crtime = 0x90;            // __le32 File Creation time
    public const int i_crtime_extra = 0x94;      // __le32 extra FileCreationtime
    public const int i_version_hi = 0x98;        // __le32 high 32 bits for 64-bit version
    public const int i_projid = 0x9C;            // __le32 Project ID
    public const int LargeInodeEnd = 0xA0;       // sizeof(struct ext4_inode)

    // i_mode file types (S_IFMT)
    public const ushort S_IFMT = 0xF000;
    public const ushort S_IFSOCK = 0xC000;
    public const ushort S_IFLNK = 0xA000;
    public const ushort S_IFREG = 0x8000;
    public const ushort S_IFBLK = 0x6000;
    public const ushort S_IFDIR = 0x4000;
    public const ushort S_IFCHR = 0x2000;
    public const ushort S_IFIFO = 0x1000;

    // i_flags
    public const uint EXT4_IMMUTABLE_FL = 0x00000010;
    public const uint EXT4_APPEND_FL = 0x00000020;
    public const uint EXT4_INDEX_FL = 0x00001000;       // hash-indexed directory
    public const uint EXT4_HUGE_FILE_FL = 0x00040000;   // i_blocks in file-system blocks
    public const uint EXT4_EXTENTS_FL = 0x00080000;     // inode uses extents
    public const uint EXT4_VERITY_FL = 0x00100000;
    public const uint EXT4_EA_INODE_FL = 0x00200000;    // inode holds a large xattr value
    public const uint EXT4_INLINE_DATA_FL = 0x10000000;
    public const uint EXT4_ENCRYPT_FL = 0x00000800;
    public const uint EXT4_CASEFOLD_FL = 0x40000000;

    // Root and reserved inode numbers
    public const uint EXT4_ROOT_INO = 2;
}
