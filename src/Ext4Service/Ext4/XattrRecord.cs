namespace Safemount.Ext4;

/// <summary>
/// One xattr entry as the editor handles it (struct ext4_xattr_entry with its value pulled out).
/// <see cref="Value"/> is null when the value lives in EA inode <see cref="ValueInum"/>; such
/// entries are kept as they are (their e_hash covers the EA inode's crc32c, not the bytes).
/// </summary>
/// <param name="Index">e_name_index.</param>
/// <param name="Name">e_name (the part after the index's prefix), 0..255 bytes.</param>
/// <param name="Value">the value bytes stored in the region; null for an EA-inode value.</param>
/// <param name="ValueInum">e_value_inum, 0 for a value in the region.</param>
/// <param name="ValueSize">e_value_size in bytes.</param>
/// <param name="Hash">e_hash.</param>
internal sealed record XattrRecord(byte Index, byte[] Name, byte[]? Value, uint ValueInum, uint ValueSize, uint Hash)
{
    /// <summary>A record for a value stored in the region, with its ext4_xattr_hash_entry.</summary>
    public static XattrRecord Inline(byte index, byte[] name, byte[] value) =>
        new(index, name, value, 0, (uint)value.Length, XattrCodec.EntryHash(name, value));

    public bool Matches(byte index, ReadOnlySpan<byte> name) => Index == index && name.SequenceEqual(Name);
}
