using System.Buffers.Binary;

namespace Safemount.Ext4;

/// <summary>
/// Converts ext4's on-disk POSIX ACL (fs/ext4/acl.h: version 1, 4-byte short entries for
/// USER_OBJ, GROUP_OBJ, MASK and OTHER, 8-byte entries with an id for USER and GROUP) to the
/// userspace xattr format (include/uapi/linux/posix_acl_xattr.h: version 2, every entry 8 bytes,
/// e_id = ACL_UNDEFINED_ID for the short kinds), as the kernel does for getxattr.
/// </summary>
internal static partial class PosixAcl
{
    public const uint EXT4_ACL_VERSION = 0x0001;
    public const uint POSIX_ACL_XATTR_VERSION = 0x0002;
    public const uint ACL_UNDEFINED_ID = 0xFFFFFFFF;

    public const ushort ACL_USER_OBJ = 0x01;
    public const ushort ACL_USER = 0x02;
    public const ushort ACL_GROUP_OBJ = 0x04;
    public const ushort ACL_GROUP = 0x08;
    public const ushort ACL_MASK = 0x10;
    public const ushort ACL_OTHER = 0x20;

    public const int HeaderSize = 4;             // a_version
    public const int ShortEntrySize = 4;         // e_tag, e_perm
    public const int FullEntrySize = 8;          // e_tag, e_perm, e_id

    /// <summary>Upper bound on entries (the kernel's EXT4 ACL fits in one xattr value; 64 KiB / 4).</summary>
    public const int MaxEntries = 16384;

    /// <summary>Returns the userspace form, or throws <see cref="Ext4CorruptionException"/> naming <paramref name="ino"/>.</summary>
    public static byte[] ToXattr(uint ino, ReadOnlySpan<byte> disk)
    {
        if (disk.Length < HeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(disk) != EXT4_ACL_VERSION)
        {
            throw new Ext4CorruptionException($"inode {ino}: bad POSIX ACL header");
        }

        var entries = new List<(ushort Tag, ushort Perm, uint Id)>();
        int o = HeaderSize;
        while (o < disk.Length)
        {
            if (disk.Length - o < ShortEntrySize || entries.Count >= MaxEntries)
            {
                throw new Ext4CorruptionException($"inode {ino}: truncated POSIX ACL entry at byte {o}");
            }

            ushort tag = BinaryPrimitives.ReadUInt16LittleEndian(disk[o..]);
            ushort perm = BinaryPrimitives.ReadUInt16LittleEndian(disk[(o + 2)..]);
            switch (tag)
            {
                case ACL_USER_OBJ or ACL_GROUP_OBJ or ACL_MASK or ACL_OTHER:
                    entries.Add((tag, perm, ACL_UNDEFINED_ID));
                    o += ShortEntrySize;
                    break;
                case ACL_USER or ACL_GROUP:
                    if (disk.Length - o < FullEntrySize)
                    {
                        throw new Ext4CorruptionException($"inode {ino}: truncated POSIX ACL entry at byte {o}");
                    }

                    entries.Add((tag, perm, BinaryPrimitives.ReadUInt32LittleEndian(disk[(o + 4)..])));
                    o += FullEntrySize;
                    break;
                default:
                    throw new Ext4CorruptionException($"inode {ino}: unknown POSIX ACL tag 0x{tag:x}");
            }
        }

        var result = new byte[HeaderSize + (entries.Count * FullEntrySize)];
        BinaryPrimitives.WriteUInt32LittleEndian(result, POSIX_ACL_XATTR_VERSION);
        int w = HeaderSize;
        foreach (var (tag, perm, id) in entries)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(w), tag);
            BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(w + 2), perm);
            BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(w + 4), id);
            w += FullEntrySize;
        }

        return result;
    }
}
