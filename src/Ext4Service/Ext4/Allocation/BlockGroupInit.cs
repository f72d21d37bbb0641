using Safemount.Ext4.Format;

namespace Safemount.Ext4.Allocation;

/// <summary>
/// Bitmaps of groups whose descriptor says BLOCK_UNINIT or INODE_UNINIT: nothing on disk is
/// valid, the bitmap is computed (kernel: ext4_init_block_bitmap in balloc.c,
/// ext4_read_inode_bitmap's uninit branch in ialloc.c).
/// </summary>
internal static class BlockGroupInit
{
    /// <summary>First block of <paramref name="group"/> and the number of blocks it has (the last group may be short).</summary>
    public static (ulong First, uint Count) GroupSpan(Superblock sb, uint group)
    {
        ulong first = ((ulong)group * sb.s_blocks_per_group) + sb.s_first_data_block;
        ulong count = Math.Min(sb.s_blocks_per_group, sb.s_blocks_count - first);
        return (first, (uint)count);
    }

    /// <summary>
    /// Writes the block bitmap of an uninitialized group into <paramref name="bitmap"/> (one
    /// block): every block of the static metadata zone inside the group set (its superblock
    /// and descriptor backups, reserved GDT blocks, and whichever bitmaps and inode tables
    /// live in it — with flex_bg they may be another group's, or this group's may live
    /// elsewhere), and the padding bits past the group's last block up to the end of the block
    /// set (ext4_mark_bitmap_end). Returns the number of clear bits among the group's blocks,
    /// which must equal bg_free_blocks_count (ext4_free_clusters_after_init); the caller
    /// treats a difference as corruption. Non-bigalloc only: one bit per block.
    /// </summary>
    public static uint BuildBlockBitmap(Superblock sb, SystemZone metadataZone, uint group, Span<byte> bitmap)
    {
        var (first, count) = GroupSpan(sb, group);
        ulong end = first + count;
        bitmap.Clear();
        foreach (var (start, stop, _) in metadataZone.Runs())
        {
            if (stop <= first || start >= end)
            {
                continue;
            }

            ulong s = Math.Max(start, first);
            ulong e = Math.Min(stop, end);
            Bitmap.Set(bitmap, (int)(s - first), (int)(e - s));
        }

        uint free = (uint)Bitmap.CountZeros(bitmap, (int)count);
        Bitmap.Set(bitmap, (int)count, (bitmap.Length * 8) - (int)count);
        return free;
    }

    /// <summary>
    /// The inode bitmap of an INODE_UNINIT group: all inodes free, the padding bits past
    /// s_inodes_per_group up to the end of the block set.
    /// </summary>
    public static void BuildInodeBitmap(Superblock sb, Span<byte> bitmap)
    {
        bitmap.Clear();
        Bitmap.Set(bitmap, (int)sb.s_inodes_per_group, (bitmap.Length * 8) - (int)sb.s_inodes_per_group);
    }
}
