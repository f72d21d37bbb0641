using System.Buffers.Binary;

namespace Safemount.Ext4;

/// <summary>
/// The setxattr direction: the userspace form (version 2) checked as posix_acl_from_xattr and
/// posix_acl_valid check it, then written in ext4's on-disk form (ext4_acl_to_disk); and the
/// mode an access ACL implies (posix_acl_equiv_mode / posix_acl_update_mode).
/// </summary>
internal static partial class PosixAcl
{
    private const ushort PermBits = 7; // ACL_READ | ACL_WRITE | ACL_EXECUTE

    /// <summary>One checked entry of a userspace ACL.</summary>
    public readonly record struct AclEntry(ushort Tag, ushort Perm, uint Id);

    /// <summary>
    /// Parses and validates a userspace ACL. Returns EINVAL for a malformed or invalid one
    /// (bad version or size, unknown tag, permission bits beyond rwx, entries out of the order
    /// USER_OBJ, USER*, GROUP_OBJ, GROUP*, [MASK], OTHER, a USER/GROUP entry without MASK).
    /// An empty entry list is valid and means "no ACL" (<paramref name="entries"/> empty).
    /// </summary>
    public static Ext4Errno FromXattr(ReadOnlySpan<byte> value, out List<AclEntry> entries)
    {
        entries = [];
        if (value.Length < HeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(value) != POSIX_ACL_XATTR_VERSION
            || (value.Length - HeaderSize) % FullEntrySize != 0 || (value.Length - HeaderSize) / FullEntrySize > MaxEntries)
        {
            return Ext4Errno.EINVAL;
        }

        for (int o = HeaderSize; o < value.Length; o += FullEntrySize)
        {
            entries.Add(new AclEntry(
                BinaryPrimitives.ReadUInt16LittleEndian(value[o..]),
                BinaryPrimitives.ReadUInt16LittleEndian(value[(o + 2)..]),
                BinaryPrimitives.ReadUInt32LittleEndian(value[(o + 4)..])));
        }

        return entries.Count == 0 || Valid(entries) ? Ext4Errno.None : Ext4Errno.EINVAL;
    }

    /// <summary>posix_acl_valid's state machine.</summary>
    private static bool Valid(List<AclEntry> entries)
    {
        const int StUserObj = 1, StUser = 2, StGroup = 3, StOther = 4, StDone = 0;
        int state = StUserObj;
        bool needsMask = false;
        foreach (var e in entries)
        {
            if ((e.Perm & ~PermBits) != 0)
            {
                return false;
            }

            switch (e.Tag)
            {
                case ACL_USER_OBJ when state == StUserObj:
                    state = StUser;
                    break;
                case ACL_USER when state == StUser && e.Id != ACL_UNDEFINED_ID:
                    needsMask = true;
                    break;
                case ACL_GROUP_OBJ when state == StUser:
                    state = StGroup;
                    break;
                case ACL_GROUP when state == StGroup && e.Id != ACL_UNDEFINED_ID:
                    needsMask = true;
                    break;
                case ACL_MASK when state == StGroup:
                    state = StOther;
                    break;
                case ACL_OTHER when state == StOther || (state == StGroup && !needsMask):
                    state = StDone;
                    break;
                default:
                    return false;
            }
        }

        return state == StDone;
    }

    /// <summary>ext4_acl_to_disk: version 1 header, 4-byte entries for the *_OBJ/MASK/OTHER kinds, 8 bytes with the id for USER/GROUP.</summary>
    public static byte[] ToDisk(List<AclEntry> entries)
    {
        int size = HeaderSize;
        foreach (var e in entries)
        {
            size += e.Tag is ACL_USER or ACL_GROUP ? FullEntrySize : ShortEntrySize;
        }

        var disk = new byte[size];
        BinaryPrimitives.WriteUInt32LittleEndian(disk, EXT4_ACL_VERSION);
        int o = HeaderSize;
        foreach (var e in entries)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(disk.AsSpan(o), e.Tag);
            BinaryPrimitives.WriteUInt16LittleEndian(disk.AsSpan(o + 2), e.Perm);
            if (e.Tag is ACL_USER or ACL_GROUP)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(disk.AsSpan(o + 4), e.Id);
                o += FullEntrySize;
            }
            else
            {
                o += ShortEntrySize;
            }
        }

        return disk;
    }

    /// <summary>
    /// posix_acl_equiv_mode: the permission bits (0777) the ACL implies (GROUP_OBJ, or MASK
    /// when present, for the group class) merged into <paramref name="mode"/>; true when the
    /// ACL says no more than the mode does (no USER, GROUP or MASK entry), so it need not be stored.
    /// </summary>
    public static bool EquivMode(List<AclEntry> entries, ref ushort mode)
    {
        int bits = 0;
        bool equiv = true;
        foreach (var e in entries)
        {
            switch (e.Tag)
            {
                case ACL_USER_OBJ:
                    bits |= (e.Perm & PermBits) << 6;
                    break;
                case ACL_GROUP_OBJ:
                    bits |= (e.Perm & PermBits) << 3;
                    break;
                case ACL_OTHER:
                    bits |= e.Perm & PermBits;
                    break;
                case ACL_MASK:
                    bits = (bits & ~0x38) | ((e.Perm & PermBits) << 3);
                    equiv = false;
                    break;
                default:
                    equiv = false;
                    break;
            }
        }

        mode = (ushort)((mode & ~0x1FF) | bits);
        return equiv;
    }
}
