using Safemount.Ext4.Format;

namespace Safemount.Ext4.Allocation;

/// <summary>
/// Bitmap checksums (kernel: fs/ext4/bitmap.c). Both are crc32c(s_csum_seed, bitmap bytes)
/// over the bits a group uses, not the whole block: clusters_per_group / 8 bytes for the block
/// bitmap (ext4_block_bitmap_csum_set), inodes_per_group / 8 for the inode bitmap
/// (ext4_inode_bitmap_csum_set). The descriptor stores the low 16 bits in
/// bg_*_bitmap_csum_lo and the high 16 in bg_*_bitmap_csum_hi when s_desc_size reaches the
/// _hi field (EXT4_BG_*_BITMAP_CSUM_HI_END); otherwise only the low half is kept.
/// </summary>
internal static class BitmapChecksum
{
    /// <summary>EXT4_BG_BLOCK_BITMAP_CSUM_HI_END: end of bg_block_bitmap_csum_hi (0x38, __le16).</summary>
    public const int BlockBitmapCsumHiEnd = 0x3A;

    /// <summary>EXT4_BG_INODE_BITMAP_CSUM_HI_END: end of bg_inode_bitmap_csum_hi (0x3A, __le16).</summary>
    public const int InodeBitmapCsumHiEnd = 0x3C;

    /// <summary>ext4_block_bitmap_csum_set: the full 32-bit value (the descriptor keeps what fits).</summary>
    public static uint Block(uint csumSeed, ReadOnlySpan<byte> bitmap, uint clustersPerGroup) =>
        Crc32c.Append(csumSeed, bitmap[..(int)(clustersPerGroup / 8)]);

    /// <summary>ext4_inode_bitmap_csum_set: the full 32-bit value.</summary>
    public static uint Inode(uint csumSeed, ReadOnlySpan<byte> bitmap, uint inodesPerGroup) =>
        Crc32c.Append(csumSeed, bitmap[..(int)(inodesPerGroup / 8)]);

    /// <summary>The part of a 32-bit bitmap checksum a descriptor of <paramref name="descSize"/> bytes stores.</summary>
    public static uint Stored(uint csum, int descSize, int hiEnd) => descSize >= hiEnd ? csum : csum & 0xFFFF;

    /// <summary>
    /// Throws <see cref="Ext4ChecksumException"/> unless <paramref name="computed"/> matches the
    /// descriptor's <paramref name="storedInDescriptor"/> in the bits the descriptor size keeps.
    /// </summary>
    public static void Verify(uint group, string what, uint computed, uint storedInDescriptor, int descSize, int hiEnd)
    {
        uint stored = Stored(storedInDescriptor, descSize, hiEnd);
        if (Stored(computed, descSize, hiEnd) != stored)
        {
            throw new Ext4ChecksumException($"group {group}: {what} checksum mismatch (stored 0x{stored:x8}, computed 0x{computed:x8})");
        }
    }
}
