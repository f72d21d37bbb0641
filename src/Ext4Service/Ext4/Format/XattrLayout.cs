namespace Safemount.Ext4.Format;

/// <summary>Extended attribute structures (linux fs/ext4/xattr.h).</summary>
internal static class XattrLayout
{
    public const uint EXT4_XATTR_MAGIC = 0xEA020000;

    // struct ext4_xattr_header (external block), 32 bytes
    public const int h_magic = 0x00;             // __le32 magic number for identification
    public const int h_refcount = 0x04;          // __le32 reference count
    public const int h_blocks = 0x08;            // __le32 number of disk blocks used (must be 1)
    public const int h_hash = 0x0C;              // __le32 hash value of all attributes
    public const int h_checksum = 0x10;          // __le32 crc32c(uuid+blknum+xattrblock)
    public const int BlockHeaderSize = 32;       // + __u32 h_reserved[3]

    // struct ext4_xattr_ibody_header (after i_extra_isize), 4 bytes
    public const int IbodyHeaderSize = 4;

    // struct ext4_xattr_entry, 16 bytes + name, padded to 4
    public const int e_name_len = 0x00;          // __u8 length of name
    public const int e_name_index = 0x01;        // __u8 attribute name index
    public const int e_value_offs = 0x02;        // __le16 offset in disk block of value
    public const int e_value_inum = 0x04;        // __le32 inode in which the value is stored
    public const int e_value_size = 0x08;        // __le32 size of attribute value
    public const int e_hash = 0x0C;              // __le32 hash value of name and value
    public const int e_name = 0x10;              // char[] attribute name
    public const int EntryHeaderSize = 16;

    /// <summary>EXT4_XATTR_LEN(name_len): entry header plus name rounded up to 4 bytes.</summary>
    public static int EntryLen(int nameLen) => (EntryHeaderSize + nameLen + 3) & ~3;

    // e_name_index values
    public const byte EXT4_XATTR_INDEX_USER = 1;
    public const byte EXT4_XATTR_INDEX_POSIX_ACL_ACCESS = 2;
    public const byte EXT4_XATTR_INDEX_POSIX_ACL_DEFAULT = 3;
    public const byte EXT4_XATTR_INDEX_TRUSTED = 4;
    public const byte EXT4_XATTR_INDEX_LUSTRE = 5;
    public const byte EXT4_XATTR_INDEX_SECURITY = 6;
    public const byte EXT4_XATTR_INDEX_SYSTEM = 7;
    public const byte EXT4_XATTR_INDEX_RICHACL = 8;
    public const byte EXT4_XATTR_INDEX_ENCRYPTION = 9;
    public const byte EXT4_XATTR_INDEX_HURD = 10;

    /// <summary>The full-name prefix of a name index, null for indices not shown to userspace.</summary>
    public static string? Prefix(byte index) => index switch
    {
        EXT4_XATTR_INDEX_USER => "user.",
        EXT4_XATTR_INDEX_POSIX_ACL_ACCESS => "system.posix_acl_access",
        EXT4_XATTR_INDEX_POSIX_ACL_DEFAULT => "system.posix_acl_default",
        EXT4_XATTR_INDEX_TRUSTED => "trusted.",
        EXT4_XATTR_INDEX_SECURITY => "security.",
        EXT4_XATTR_INDEX_SYSTEM => "system.",
        EXT4_XATTR_INDEX_RICHACL => "system.richacl",
        _ => null,
    };
}
