namespace Safemount.Ext4;

/// <summary>
/// The xattr entry hash of fs/ext4/xattr.c (ext4_xattr_hash_entry and its "signed" twin):
/// a rotate-and-xor over the name bytes (rotate 5) and then over the value's little-endian
/// 32-bit words (rotate 16). For an entry whose value lives in an EA inode the value words are
/// the single word crc32c(s_csum_seed, value). Old kernels hashed names with a signed char,
/// so names with bytes >= 0x80 may carry that variant; the kernel accepts either.
/// </summary>
internal static class XattrHash
{
    private const int NameHashShift = 5;      // NAME_HASH_SHIFT
    private const int ValueHashShift = 16;    // VALUE_HASH_SHIFT

    /// <summary>Hash of <paramref name="name"/> followed by the value words.</summary>
    public static uint Entry(ReadOnlySpan<byte> name, ReadOnlySpan<uint> valueWords, bool signedName)
    {
        uint hash = 0;
        foreach (byte b in name)
        {
            // (signed char) sign-extends bytes >= 0x80 before the xor.
            uint c = signedName ? (uint)(int)(sbyte)b : b;
            hash = (hash << NameHashShift) ^ (hash >> (32 - NameHashShift)) ^ c;
        }

        foreach (uint w in valueWords)
        {
            hash = (hash << ValueHashShift) ^ (hash >> (32 - ValueHashShift)) ^ w;
        }

        return hash;
    }
}
