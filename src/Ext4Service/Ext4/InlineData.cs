using Safemount.Ext4.Format;
using X = Safemount.Ext4.Format.XattrLayout;

namespace Safemount.Ext4;

/// <summary>
/// inline_data (kernel: fs/ext4/inline.c). A small file's bytes live in i_block (the first 60)
/// and continue in the value of the in-inode xattr "system.data" (index 7, name "data"). A
/// directory's i_block starts with the parent's inode number (4 bytes, in place of "." and
/// ".."), then dirents filling the rest of i_block; "system.data" may hold a second run of
/// dirents. Neither region has a checksum tail (the inode checksum covers them).
/// </summary>
internal static class InlineData
{
    public const int MinInlineDataSize = InodeLayout.IBlockSize; // EXT4_MIN_INLINE_DATA_SIZE
    public const int InlineDotDotSize = 4;                       // EXT4_INLINE_DOTDOT_SIZE
    public static readonly byte[] XattrName = "data"u8.ToArray(); // EXT4_XATTR_SYSTEM_DATA

    /// <summary>i_block followed by the system.data value (empty when absent).</summary>
    public static byte[] Contents(Ext4Volume v, Ext4Inode inode)
    {
        byte[]? extra = v.Xattrs.GetInodeBody(inode, X.EXT4_XATTR_INDEX_SYSTEM, XattrName);
        var all = new byte[MinInlineDataSize + (extra?.Length ?? 0)];
        inode.IBlock.CopyTo(all);
        extra?.CopyTo(all, MinInlineDataSize);
        return all;
    }

    /// <summary>Copies file bytes from inline storage; i_size may not exceed what is stored.</summary>
    public static int Read(Ext4Volume v, Ext4Inode inode, long offset, Span<byte> destination)
    {
        byte[] all = Contents(v, inode);
        if (inode.Size > all.Length)
        {
            throw new Ext4CorruptionException(
                $"inode {inode.Number}: i_size {inode.Size} exceeds its inline data ({all.Length} bytes)");
        }

        if (offset >= inode.Size)
        {
            return 0;
        }

        int n = (int)Math.Min(destination.Length, inode.Size - offset);
        all.AsSpan((int)offset, n).CopyTo(destination);
        return n;
    }
}
